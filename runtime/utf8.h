// utf8.h: how long the UTF-8 character at s is, and a code point's bytes, for the writers of JSON and
// SVG (which must be valid UTF-8) and for names read from untrusted files.
// A path or a model's metadata may hold any bytes; those that are not UTF-8
// are written as U+FFFD (or '_'), never copied raw.
#pragma once
#include <stddef.h>

// The byte length (1-4) of the well-formed UTF-8 character at s, 0 when the
// bytes there are not one (a stray continuation byte, an overlong form, a
// surrogate, past U+10FFFF, or cut short by the string's end).
static inline int utf8_char_length(const char *text) {
    const unsigned char *s = (const unsigned char *)text;
    if (s[0] < 0x80) return 1;
    int len = s[0] >= 0xc2 && s[0] <= 0xdf ? 2 : s[0] >= 0xe0 && s[0] <= 0xef ? 3 : s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : 0;
    for (int k = 1; k < len; k++)
        if ((s[k] & 0xc0) != 0x80) return 0; // (also a NUL: the string ends inside the character)
    // the second byte's range that keeps a 3- or 4-byte form minimal and in range
    if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f) || (s[0] == 0xf0 && s[1] < 0x90) ||
        (s[0] == 0xf4 && s[1] > 0x8f))
        return 0;
    return len;
}

// The UTF-8 bytes of code point v (at most U+10FFFF, not a surrogate) into
// out: their count, 1-4.
static inline int utf8_encode(unsigned v, unsigned char out[4]) {
    if (v < 0x80) return out[0] = (unsigned char)v, 1;
    if (v < 0x800) return out[0] = (unsigned char)(0xC0 | v >> 6), out[1] = (unsigned char)(0x80 | (v & 0x3F)), 2;
    if (v < 0x10000) {
        out[0] = (unsigned char)(0xE0 | v >> 12), out[1] = (unsigned char)(0x80 | ((v >> 6) & 0x3F));
        out[2] = (unsigned char)(0x80 | (v & 0x3F));
        return 3;
    }
    out[0] = (unsigned char)(0xF0 | v >> 18), out[1] = (unsigned char)(0x80 | ((v >> 12) & 0x3F));
    out[2] = (unsigned char)(0x80 | ((v >> 6) & 0x3F)), out[3] = (unsigned char)(0x80 | (v & 0x3F));
    return 4;
}

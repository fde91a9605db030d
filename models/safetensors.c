// safetensors.c: validating reader of .safetensors (see safetensors.h).
// The JSON header is parsed by a small strict recursive-descent parser that
// only accepts what safetensors allows: one object whose values are tensor
// objects {dtype, shape, data_offsets} or the __metadata__ string map.
#include "safetensors.h"
#include "../runtime/utf8.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ST_MAX_HEADER (100u << 20) // the format's own 100 MB limit
#define ST_MAX_TENSORS 100000
#define ST_MAX_METADATA 1024 // entries of __metadata__ (ours have a handful)
#define ST_MAX_METADATA_KEY 1024 // bytes of a metadata key (its value: any length)

typedef struct {
    const char *p, *end;
    cascade_error *err;
} json_cursor;

static void skip_ws(json_cursor *c) {
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r')) c->p++;
}

static int expect(json_cursor *c, char ch) {
    skip_ws(c);
    if (c->p >= c->end || *c->p != ch) {
        cascade_fail(c->err, CASCADE_EFORMAT, "safetensors header: malformed JSON (expected '%c')", ch);
        return -1;
    }
    c->p++;
    return 0;
}

static int peek(json_cursor *c, char ch) {
    skip_ws(c);
    return c->p < c->end && *c->p == ch;
}

// The four hex digits of a \u escape as v; -1 when they are not.
static int read_hex4(json_cursor *c, unsigned *v) {
    if (c->end - c->p < 4) return -1;
    *v = 0;
    for (int i = 0; i < 4; i++) {
        char h = *c->p++;
        *v <<= 4;
        if (h >= '0' && h <= '9') *v |= (unsigned)(h - '0');
        else if (h >= 'a' && h <= 'f') *v |= (unsigned)(h - 'a' + 10);
        else if (h >= 'A' && h <= 'F') *v |= (unsigned)(h - 'A' + 10);
        else return -1;
    }
    return 0;
}

// The character of a \u escape (the "\u" read) as UTF-8 into out: its byte
// count, or -1 for \u0000 (it would cut the string short) or a lone surrogate.
static int read_unicode_escape(json_cursor *c, unsigned char out[4]) {
    unsigned v, low;
    if (read_hex4(c, &v) || v == 0 || (v >= 0xDC00 && v <= 0xDFFF)) return -1;
    if (v >= 0xD800 && v <= 0xDBFF) { // a pair: \uD8xx\uDCxx
        if (c->end - c->p < 2 || c->p[0] != '\\' || c->p[1] != 'u') return -1;
        c->p += 2;
        if (read_hex4(c, &low) || low < 0xDC00 || low > 0xDFFF) return -1;
        v = 0x10000 + ((v - 0xD800) << 10) + (low - 0xDC00);
    }
    return utf8_encode(v, out);
}

// Reads a JSON string into out (NUL-terminated, at most cap-1 bytes); a \u
// escape becomes its UTF-8 bytes, as the raw character would be.
static int parse_string(json_cursor *c, char *out, size_t cap) {
    if (expect(c, '"')) return -1;
    size_t n = 0;
    while (c->p < c->end && *c->p != '"') {
        unsigned char bytes[4] = {(unsigned char)*c->p++};
        int count = 1;
        if (bytes[0] < 0x20) goto bad;
        if (bytes[0] == '\\') {
            if (c->p >= c->end) goto bad;
            char e = *c->p++;
            switch (e) {
            case '"': case '\\': case '/': bytes[0] = (unsigned char)e; break;
            case 'b': bytes[0] = '\b'; break;
            case 'f': bytes[0] = '\f'; break;
            case 'n': bytes[0] = '\n'; break;
            case 'r': bytes[0] = '\r'; break;
            case 't': bytes[0] = '\t'; break;
            case 'u':
                if ((count = read_unicode_escape(c, bytes)) < 0) goto bad;
                break;
            default: goto bad;
            }
        }
        if (n + (size_t)count >= cap) {
            cascade_fail(c->err, CASCADE_EFORMAT, "safetensors header: string longer than %zu bytes", cap - 1);
            return -1;
        }
        memcpy(out + n, bytes, (size_t)count);
        n += (size_t)count;
    }
    if (c->p >= c->end) goto bad;
    c->p++;
    out[n] = 0;
    return 0;
bad:
    cascade_fail(c->err, CASCADE_EFORMAT, "safetensors header: malformed JSON string");
    return -1;
}

// The JSON string at c (past blanks) into *out, malloc'd to fit: its bytes
// as written, escapes included, bound the unescaped ones (a \u escape of 6
// gives at most 3, a pair of 12 gives 4). *out is NULL on failure.
static int parse_string_copy(json_cursor *c, char **out) {
    *out = NULL;
    skip_ws(c);
    if (c->p >= c->end || *c->p != '"') return expect(c, '"');
    const char *q = c->p + 1;
    while (q < c->end && *q != '"') q += *q == '\\' && q + 1 < c->end ? 2 : 1;
    size_t cap = (size_t)(q - c->p) + 1;
    if (!(*out = malloc(cap))) {
        cascade_fail(c->err, CASCADE_ENOMEM, "out of memory reading metadata");
        return -1;
    }
    if (!parse_string(c, *out, cap)) return 0;
    free(*out);
    *out = NULL;
    return -1;
}

static int parse_uint(json_cursor *c, uint64_t *out) {
    skip_ws(c);
    if (c->p >= c->end || *c->p < '0' || *c->p > '9') {
        cascade_fail(c->err, CASCADE_EFORMAT, "safetensors header: expected a non-negative integer");
        return -1;
    }
    uint64_t v = 0;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
        unsigned d = (unsigned)(*c->p++ - '0');
        if (v > (UINT64_MAX - d) / 10) {
            cascade_fail(c->err, CASCADE_EFORMAT, "safetensors header: integer overflow");
            return -1;
        }
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

// [u, u, ...] into out (at most cap entries).
static int parse_uint_array(json_cursor *c, uint64_t *out, int cap, int *count) {
    if (expect(c, '[')) return -1;
    *count = 0;
    if (peek(c, ']')) { c->p++; return 0; }
    for (;;) {
        if (*count >= cap) {
            cascade_fail(c->err, CASCADE_EFORMAT, "safetensors header: array longer than %d", cap);
            return -1;
        }
        if (parse_uint(c, &out[(*count)++])) return -1;
        if (peek(c, ',')) { c->p++; continue; }
        return expect(c, ']');
    }
}

static int dtype_from_name(const char *s, st_dtype *d) {
    static const struct { const char *name; st_dtype d; } table[] = {
        {"F16", ST_F16}, {"BF16", ST_BF16}, {"F32", ST_F32}, {"F64", ST_F64},
        {"U8", ST_U8},   {"I8", ST_I8},     {"I32", ST_I32}, {"I64", ST_I64},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (!strcmp(s, table[i].name)) { *d = table[i].d; return 0; }
    return -1;
}

const char *st_dtype_name(st_dtype d) {
    static const char *names[] = {"F16", "BF16", "F32", "F64", "U8", "I8", "I32", "I64"};
    return (unsigned)d < 8 ? names[d] : "?";
}

size_t st_dtype_size(st_dtype d) {
    static const size_t sizes[] = {2, 2, 4, 8, 1, 1, 4, 8};
    return (unsigned)d < 8 ? sizes[d] : 0;
}

// An array of n elements of size bytes with room for one more: grown (to
// twice, at least 8) when n is 0 or a power of two of 8 or more, the sizes
// it last had; NULL when out of memory (array then still holds the n).
static void *room_for_one_more(void *array, int n, size_t size) {
    if (n && (n < 8 || (n & (n - 1)))) return array;
    return realloc(array, (size_t)(n ? 2 * n : 8) * size);
}

static int parse_metadata(json_cursor *c, st_file *f) {
    if (expect(c, '{')) return -1;
    if (peek(c, '}')) { c->p++; return 0; }
    for (;;) {
        if (f->n_metadata >= ST_MAX_METADATA) {
            cascade_fail(c->err, CASCADE_EFORMAT, "safetensors header: more than %d metadata entries", ST_MAX_METADATA);
            return -1;
        }
        st_metadata_entry *grown = room_for_one_more(f->metadata, f->n_metadata, sizeof *grown);
        if (!grown) { cascade_fail(c->err, CASCADE_ENOMEM, "out of memory reading metadata"); return -1; }
        f->metadata = grown;
        st_metadata_entry *e = &f->metadata[f->n_metadata++];
        e->key = e->value = NULL; // st_close frees what is set
        if (parse_string_copy(c, &e->key) || expect(c, ':') || parse_string_copy(c, &e->value)) return -1;
        if (strlen(e->key) > ST_MAX_METADATA_KEY) { // values may be long; keys are compared pairwise just below
            cascade_fail(c->err, CASCADE_EFORMAT, "safetensors header: metadata key longer than %d bytes",
                         ST_MAX_METADATA_KEY);
            return -1;
        }
        for (int i = 0; i < f->n_metadata - 1; i++) // which one a reader takes differs (we took the first)
            if (!strcmp(f->metadata[i].key, e->key)) {
                cascade_fail(c->err, CASCADE_EFORMAT, "safetensors header: metadata '%s' appears twice", e->key);
                return -1;
            }
        if (peek(c, ',')) { c->p++; continue; }
        return expect(c, '}');
    }
}

// One tensor entry: {"dtype": "...", "shape": [...], "data_offsets": [b, e]} in any order.
static int parse_tensor(json_cursor *c, st_tensor *t) {
    int have_dtype = 0, have_shape = 0, have_offsets = 0;
    if (expect(c, '{')) return -1;
    for (;;) {
        char key[32];
        if (parse_string(c, key, sizeof key) || expect(c, ':')) return -1;
        if (!strcmp(key, "dtype") && !have_dtype) {
            char name[16];
            if (parse_string(c, name, sizeof name)) return -1;
            if (dtype_from_name(name, &t->dtype)) {
                cascade_fail(c->err, CASCADE_EFORMAT, "tensor '%s': unknown dtype '%s'", t->name, name);
                return -1;
            }
            have_dtype = 1;
        } else if (!strcmp(key, "shape") && !have_shape) {
            uint64_t dims[ST_MAX_DIMS];
            if (parse_uint_array(c, dims, ST_MAX_DIMS, &t->ndim)) return -1;
            t->numel = 1;
            for (int i = 0; i < t->ndim; i++) {
                if (dims[i] > (uint64_t)1 << 40 || (dims[i] && (uint64_t)t->numel > ((uint64_t)1 << 40) / dims[i])) {
                    cascade_fail(c->err, CASCADE_EFORMAT, "tensor '%s': shape too large", t->name);
                    return -1;
                }
                t->shape[i] = (int64_t)dims[i];
                t->numel *= (int64_t)dims[i];
            }
            have_shape = 1;
        } else if (!strcmp(key, "data_offsets") && !have_offsets) {
            uint64_t off[2];
            int n;
            if (parse_uint_array(c, off, 2, &n)) return -1;
            if (n != 2) {
                cascade_fail(c->err, CASCADE_EFORMAT, "tensor '%s': data_offsets needs 2 entries", t->name);
                return -1;
            }
            t->begin = (size_t)off[0];
            t->end = (size_t)off[1];
            have_offsets = 1;
        } else {
            cascade_fail(c->err, CASCADE_EFORMAT, "tensor '%s': unexpected or repeated key '%s'", t->name, key);
            return -1;
        }
        if (peek(c, ',')) { c->p++; continue; }
        if (expect(c, '}')) return -1;
        break;
    }
    if (!have_dtype || !have_shape || !have_offsets) {
        cascade_fail(c->err, CASCADE_EFORMAT, "tensor '%s': needs dtype, shape and data_offsets", t->name);
        return -1;
    }
    return 0;
}

static int parse_header(json_cursor *c, st_file *f) {
    if (expect(c, '{')) return -1;
    if (peek(c, '}')) { c->p++; goto done; }
    int seen_metadata = 0; // an empty first object too: a first-wins reader would see no metadata
    for (;;) {
        char name[ST_MAX_NAME];
        if (parse_string(c, name, sizeof name) || expect(c, ':')) return -1;
        if (!strcmp(name, "__metadata__")) {
            if (seen_metadata) {
                cascade_fail(c->err, CASCADE_EFORMAT, "safetensors header: repeated __metadata__");
                return -1;
            }
            seen_metadata = 1;
            if (parse_metadata(c, f)) return -1;
        } else {
            if (f->n_tensors >= ST_MAX_TENSORS) {
                cascade_fail(c->err, CASCADE_EFORMAT, "safetensors header: more than %d tensors", ST_MAX_TENSORS);
                return -1;
            }
            st_tensor *grown = room_for_one_more(f->tensors, f->n_tensors, sizeof *grown);
            if (!grown) { cascade_fail(c->err, CASCADE_ENOMEM, "out of memory reading header"); return -1; }
            f->tensors = grown;
            st_tensor *t = &f->tensors[f->n_tensors++];
            memset(t, 0, sizeof *t);
            strcpy(t->name, name);
            if (parse_tensor(c, t)) return -1;
        }
        if (peek(c, ',')) { c->p++; continue; }
        if (expect(c, '}')) return -1;
        break;
    }
done:
    skip_ws(c);
    if (c->p != c->end) {
        cascade_fail(c->err, CASCADE_EFORMAT, "safetensors header: trailing bytes after the JSON object");
        return -1;
    }
    return 0;
}

static int compare_name(const void *a, const void *b) {
    return strcmp((*(st_tensor *const *)a)->name, (*(st_tensor *const *)b)->name);
}

static int compare_begin(const void *a, const void *b) {
    const st_tensor *x = *(st_tensor *const *)a, *y = *(st_tensor *const *)b;
    return x->begin < y->begin ? -1 : x->begin > y->begin;
}

// Byte ranges: match dtype x shape, lie inside the data section, no overlap,
// no byte of it left out (the format allows no holes: no second file hidden
// in one), unique names.
static cascade_status check_ranges(st_file *f, const uint8_t *data, size_t data_size, cascade_error *err) {
    for (int i = 0; i < f->n_tensors; i++) {
        st_tensor *t = &f->tensors[i];
        if (t->end < t->begin || t->end > data_size)
            return cascade_fail(err, CASCADE_EFORMAT, "tensor '%s': data range [%zu, %zu) is outside the %zu-byte data section",
                                t->name, t->begin, t->end, data_size);
        if ((uint64_t)(t->end - t->begin) != (uint64_t)t->numel * st_dtype_size(t->dtype))
            return cascade_fail(err, CASCADE_EFORMAT, "tensor '%s': %zu bytes do not hold shape x %s (%lld elements)",
                                t->name, t->end - t->begin, st_dtype_name(t->dtype), (long long)t->numel);
        t->data = data + t->begin;
    }
    st_tensor **order = malloc((size_t)(f->n_tensors > 0 ? f->n_tensors : 1) * sizeof *order);
    if (!order) return cascade_fail(err, CASCADE_ENOMEM, "out of memory checking tensor ranges");
    for (int i = 0; i < f->n_tensors; i++) order[i] = &f->tensors[i];
    qsort(order, (size_t)f->n_tensors, sizeof *order, compare_begin);
    cascade_status s = CASCADE_OK;
    const st_tensor *furthest = NULL; // of those so far, the one ending last (empty ones hold no bytes)
    for (int i = 0; i < f->n_tensors && !s; i++) {
        const st_tensor *t = order[i];
        if (t->begin == t->end) continue;
        size_t covered = furthest ? furthest->end : 0;
        if (furthest && t->begin < covered && !strcmp(furthest->name, t->name)) // (not "'a' and 'a' overlap")
            s = cascade_fail(err, CASCADE_EFORMAT, "tensor '%s' appears twice", t->name);
        else if (furthest && t->begin < covered)
            s = cascade_fail(err, CASCADE_EFORMAT, "tensors '%s' and '%s' overlap in the data section",
                             furthest->name, t->name);
        else if (t->begin > covered)
            s = cascade_fail(err, CASCADE_EFORMAT, "data section bytes [%zu, %zu) belong to no tensor", covered,
                             t->begin);
        if (!furthest || t->end > furthest->end) furthest = t;
    }
    size_t covered = furthest ? furthest->end : 0;
    if (!s && covered < data_size)
        s = cascade_fail(err, CASCADE_EFORMAT, "data section bytes [%zu, %zu) belong to no tensor (%s)", covered,
                         data_size, covered ? "trailing bytes" : "no tensor holds any");
    if (!s) { // duplicate names: adjacent once sorted by name
        qsort(order, (size_t)f->n_tensors, sizeof *order, compare_name);
        for (int i = 1; i < f->n_tensors && !s; i++)
            if (!strcmp(order[i]->name, order[i - 1]->name))
                s = cascade_fail(err, CASCADE_EFORMAT, "tensor '%s' appears twice", order[i]->name);
    }
    free(order);
    return s;
}

// What a file whose header length runs past its end is, where its first
// bytes say so (a checkpoint of another format given for a model); NULL when
// they do not.
static const char *other_format(const uint8_t *b, size_t size) {
    if (!memcmp(b, "PK\x03\x04", 4))
        return "a zip archive (a PyTorch .pt/.pth checkpoint?): save its state_dict with safetensors.torch.save_file";
    if (b[0] == 0x80 && b[1] >= 2 && b[1] <= 5)
        return "a Python pickle (torch.save's legacy format?): save its state_dict with safetensors.torch.save_file";
    if (b[0] == 0x1f && b[1] == 0x8b) return "a gzip-compressed file: decompress it first";
    if (size % 3073 == 0 && b[0] <= 9) return "by its size, a CIFAR-10 data file (3073-byte records)";
    return NULL;
}

cascade_status st_parse(st_file *f, const uint8_t *bytes, size_t size, cascade_error *err) {
    memset(f, 0, sizeof *f);
    if (size < 8) return cascade_fail(err, CASCADE_EFORMAT, "file too short for a safetensors header (%zu bytes)", size);
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--) n = (n << 8) | bytes[i];
    const char *other = n > size - 8 ? other_format(bytes, size) : NULL;
    if (other) return cascade_fail(err, CASCADE_EFORMAT, "not a safetensors file: %s", other);
    if (n > size - 8)
        return cascade_fail(err, CASCADE_EFORMAT, "header length %llu runs past the end of the file (%zu bytes): "
                            "not a safetensors file, or one cut short", (unsigned long long)n, size);
    if (n > ST_MAX_HEADER) return cascade_fail(err, CASCADE_EFORMAT, "header length %llu exceeds 100 MB", (unsigned long long)n);
    json_cursor c = {(const char *)bytes + 8, (const char *)bytes + 8 + n, err};
    if (err) err->message[0] = 0;
    if (parse_header(&c, f)) {
        st_close(f);
        return err && err->message[0] ? CASCADE_EFORMAT : cascade_fail(err, CASCADE_EFORMAT, "malformed safetensors header");
    }
    cascade_status s = check_ranges(f, bytes + 8 + n, size - 8 - n, err);
    if (s) st_close(f);
    return s;
}

cascade_status st_open(st_file *f, const char *path, cascade_error *err) {
    memset(f, 0, sizeof *f); // (a failed open leaves nothing for st_close to close or free)
    mapped_file m;
    cascade_status s = mapped_file_open(&m, path, err);
    if (s) return s;
    if ((s = st_parse(f, m.data, m.size, err))) {
        mapped_file_close(&m);
        cascade_error_prefix(err, path);
        return s;
    }
    f->map = m;
    return CASCADE_OK;
}

void st_close(st_file *f) {
    mapped_file_close(&f->map);
    free(f->tensors);
    for (int i = 0; i < f->n_metadata; i++) free(f->metadata[i].key), free(f->metadata[i].value);
    free(f->metadata);
    memset(f, 0, sizeof *f);
}

const st_tensor *st_find(const st_file *f, const char *name) {
    for (int i = 0; i < f->n_tensors; i++)
        if (!strcmp(f->tensors[i].name, name)) return &f->tensors[i];
    return NULL;
}

const char *st_metadata(const st_file *f, const char *key) {
    for (int i = 0; i < f->n_metadata; i++)
        if (!strcmp(f->metadata[i].key, key)) return f->metadata[i].value;
    return NULL;
}

float st_half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff, bits;
    if (exp == 0) {
        if (mant == 0) bits = sign;
        else { // subnormal: renormalise
            exp = 127 - 15 + 1;
            while (!(mant & 0x400)) { mant <<= 1; exp--; }
            bits = sign | (exp << 23) | ((mant & 0x3ff) << 13);
        }
    } else if (exp == 31) bits = sign | 0x7f800000u | (mant << 13);
    else bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
    float out;
    memcpy(&out, &bits, 4);
    return out;
}

cascade_status st_to_f32(const st_tensor *t, float *out, cascade_error *err) {
    if (t->dtype != ST_F16 && t->dtype != ST_BF16 && t->dtype != ST_F32 && t->dtype != ST_F64)
        return cascade_fail(err, CASCADE_EFORMAT, "tensor '%s': dtype %s is not floating point", t->name, st_dtype_name(t->dtype));
    for (int64_t i = 0; i < t->numel; i++) {
        const uint8_t *p = t->data + (size_t)i * st_dtype_size(t->dtype);
        float v;
        if (t->dtype == ST_F16) { uint16_t h; memcpy(&h, p, 2); v = st_half_to_float(h); }
        else if (t->dtype == ST_BF16) { uint32_t b = (uint32_t)(p[0] | p[1] << 8) << 16; memcpy(&v, &b, 4); }
        else if (t->dtype == ST_F32) memcpy(&v, p, 4);
        else { double d; memcpy(&d, p, 8); v = (float)d; }
        if (!isfinite(v))
            return cascade_fail(err, CASCADE_EFORMAT, "tensor '%s': non-finite value (NaN or Inf) at element %lld", t->name, (long long)i);
        out[i] = v;
    }
    return CASCADE_OK;
}

// record_match.h: how many images of one run of CIFAR records appear, pixel
// for pixel, in another run: calibrate's check that a --test holds none of
// the validation images and none of the trained-on ones, whatever the files
// are called (a copy of data_batch_5.bin elsewhere, records cut out of it).
#pragma once
#include <stdint.h>
#include "cifar.h"

typedef struct {
    const cifar_file *file;
    int first;  // records [first, first + n) of file
    int64_t n;
} record_run;

// *count = how many records of `of` have the pixels of some record of `among`
// (labels are not compared: the same image under another label is still seen).
CASCADE_MUST_CHECK cascade_status records_in_common(record_run among, record_run of, int64_t *count,
                                                    cascade_error *err);

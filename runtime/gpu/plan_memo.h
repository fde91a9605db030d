// plan_memo.h: which cuDNN engine config each conv graph chose, remembered
// for the life of the process. A network built again with the same conv
// shapes (`cascade bench` builds resnet34 once per cascade; a job that
// reopens its backend) finalizes the remembered config alone instead of
// finalizing and timing the heuristic's top few. Keyed by the whole
// cudnn_conv_shape (batch, channels, sizes, fused ops, heuristic mode) and
// the CUDA device; the engine id is kept beside the config index, so that a
// config index naming another engine in a later build is not reused
// (cudnn_conv_finalize_config). CASCADE_PLAN_MEMO=0 turns it off (every build times its
// own plans, as before). Safe to call from several threads.
#pragma once
#include "cudnn_conv.h"

#define PLAN_MEMO_MAX 256

#ifdef __cplusplus
extern "C" {
#endif

// 1 unless CASCADE_PLAN_MEMO=0.
int plan_memo_enabled(void);
// The config index chosen earlier for this shape on this device, or -1;
// *engine (may be NULL) gets that choice's engine id (-1 when unknown).
int plan_memo_find(const cudnn_conv_shape *shape, int *engine);
// Remembers a choice, replacing an earlier one for the shape (a build whose
// remembered choice no longer finalized chose anew). A full memo, of
// PLAN_MEMO_MAX shapes, takes no new shapes.
void plan_memo_keep(const cudnn_conv_shape *shape, int config, int engine);
// Forgets every choice (tests).
void plan_memo_clear(void);

#ifdef __cplusplus
}
#endif

// plan_memo.h: which cuDNN engine config each conv graph chose, remembered
// for the life of the process and across processes in a cache file (and,
// under a shape whose heuristic mode cuDNN has not, gpu_network's decision
// between its conv_small kernel and cuDNN for the graph). A network
// built again with the same conv shapes (`cascade bench` builds resnet34 once
// per cascade; a job that reopens its backend; the next run of the same job)
// finalizes the remembered config alone instead of finalizing and timing the
// heuristic's top few. That also makes two runs of a job use the same plans,
// so that they write the same bytes: timing alone may pick another of two
// near-equal plans in each process, and another plan rounds differently.
// Keyed by the whole cudnn_conv_shape (batch, channels, sizes, fused ops,
// heuristic mode) and the device (name, compute capability, SM count, driver
// and cuDNN versions);
// the engine id is kept beside the config index, so that a config index
// naming another engine in a later build is not reused
// (cudnn_conv_finalize_config) but chosen anew and replaced.
// CASCADE_PLAN_MEMO=0 turns it all off (every build times its own plans).
// The file: CASCADE_PLAN_CACHE, or $XDG_CACHE_HOME/cascade/cudnn-plans.tsv,
// or ~/.cache/cascade/cudnn-plans.tsv; CASCADE_PLAN_CACHE=off (or empty)
// keeps the memo within the process, as does CASCADE_CUDNN_PLANS (its plans
// are not timed choices). Only the current card's lines are read; a full table
// gives way to this process's own choices. Safe to call from several threads.
#pragma once
#include "cudnn_conv.h"

#define PLAN_MEMO_MAX 1024 // a bench of six models at two batch sizes holds ~200
// The heur_mode of gpu_network's conv_small-or-cuDNN keys (no cuDNN mode),
// plus the conv form's index: config 1 for conv_small, 0 for cuDNN, engine 0.
// A change to the conv_small kernel moves it on (1100, ...), so that the
// decisions cached for the old one are not reused.
#define PLAN_MEMO_CONV_SMALL_MODE 1000

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
// Writes the memo to the cache file when it holds choices the file lacks
// (merged with what other processes wrote meanwhile; written whole through a
// rename; one process at a time, through the lock file FILE.lock). CASCADE_OK, writing nothing, when the memo or the file is off.
// A failure (CASCADE_EIO) leaves the memo as it was: callers may go on.
CASCADE_MUST_CHECK cascade_status plan_memo_save(cascade_error *err);
// The cache file's path into out; 0 (out empty) when there is none.
int plan_memo_cache_path(char *out, size_t cap);
// Forgets every choice, and that the file was read (tests).
void plan_memo_clear(void);

#ifdef __cplusplus
}
#endif

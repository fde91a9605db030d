// bad.c: unchecked statuses check_cuda_calls.sh must find, one a line
// marked "BAD" (tests/check_cuda_calls_selftest.sh counts them). Not built.
#define SYNC_ALL() cudaDeviceSynchronize() /* BAD: a call hidden in a macro */
static int f1(void) { return cudaMemsetAsync(p, 0, n, s), 0; } /* BAD: the comma drops it */
static void f2(void) { NOT_CHECKED(cudaFree(p)); } /* BAD: not one of gpu_check.h's macros */
static void f3(void) { cudaError_t e = cudaMalloc(&p, n == 0 ? 1 : n); } /* BAD: == in its own arguments */
static void f4(void) { cudaError_t e = cudaFree(p); /* BAD: e mentioned after, never tested */
  if (x) y = 1;
  z = e; }
static void f5(void) { k<<<1, 1>>>(a); /* BAD: the launch's error cleared, not checked */
  (void)cudaGetLastError(); }
static void f6(void) { gather_launch(&p, s); } /* BAD: our launcher's status dropped */
static void f7(void) { cuMemFree(d); } /* BAD: the driver API */
static void f8(void) { cudaStreamSynchronize(s); } /* BAD: the plainest */
static int f9(int x) { return x ? cudaStreamQuery(s) : cudaSuccess, 0; } /* BAD: a branch, then the comma drops it */
static int f10(void) { return 1 + cudaFree(p); } /* BAD: arithmetic on it is no check */
static int f11(void) { cudaError_t e = cudaMemset(p, 0, n); /* BAD: overwritten before its test */
  e = cudaDeviceSynchronize();
  return e; }
static void f12(void) { if (e == cudaSuccess) cudaMemsetAsync(p, 0, 4, s); } /* BAD: another status compared, not its own */
static void f13(void) { ok = cudaStreamSynchronize(s) == cudaSuccess || cudaMemsetAsync(p, 0, 4, s); } /* BAD: the second one's dropped */
static void f14(void) { fprintf(stderr, "%s", cudaGetErrorString(cudaFree(p))); } /* BAD: printed, never acted on */

// good.c: checked statuses check_cuda_calls.sh must accept (none flagged). Not built.
cudaError_t gather_launch(const gather_params *p, cudaStream_t stream) {
    k<<<1, 1, 0, stream>>>(*p);
    return cudaGetLastError();
}
static cascade_status g1(cascade_error *err) {
    CUDA_CHECK(cudaMalloc(&p, n));
    CUDA_CHECK(gather_launch(&q, s));
    CUDA_TEARDOWN_CHECK(cudaFree(p));
    if (cudaStreamSynchronize(s) != cudaSuccess) return CASCADE_EDEVICE;
    if (ready && cudaStreamQuery(s)) return CASCADE_EDEVICE;
    cudaError_t e = cudaHostRegister(p, n, 0);
    if (e != cudaSuccess) return CASCADE_EDEVICE;
    e = cudaEventCreate(&ev);
    return e == cudaSuccess ? CASCADE_OK : CASCADE_EDEVICE;
}
static cudaError_t g2(void) { return cudaGetLastError(); }
static void g3(void) { (void)cudaGetLastError(); /* cleared on purpose: listed, not failed */ }
static int g4(void) { cudnnStatus_t st = cudnnBackendFinalize(d);
    return st; }
static cudaError_t g5(void) { return (cudaDeviceSynchronize()); }
static cudaError_t g6(int x) { return x ? cudaStreamQuery(s) : cudaSuccess; }
static cudaError_t g7(int x) { return x ? cudaSuccess : cudaStreamQuery(s); }
static int g8(void) { cudaError_t e = cudaStreamQuery(s);
    switch (e) { case cudaSuccess: return 1; default: return 0; } }
static int g9(void) { cudaError_t e = cudaEventCreate(&a);
    if (e == cudaSuccess) e = cudaEventCreate(&b); /* its own variable, tested next */
    return e != cudaSuccess; }
static cudaError_t g10(int n) { if (n == 0)
        return n ? cudaMemsetAsync(p, 0, 4, s) : cudaSuccess; /* the return's branch, after an if */
    return cudaSuccess; }
static void g11(void) { report(cudaGetErrorString(cudaGetLastError())); /* taken for the message */ }
static int g12(void) { ok = cudaStreamSynchronize(s) == cudaSuccess && (e = cudaFree(p)) == cudaSuccess;
    return ok; }
static cudaError_t g13(void) { e = e != cudaSuccess ? e : cudaFree(p); /* the first error kept, tested next */
    return e; }
static cudaError_t g14(void) { e = (e == cudaSuccess) ? cudaFree(p) : e;
    if (e != cudaSuccess) return e;
    return cudaSuccess; }

using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using LearningMechanics.Numerics;

namespace LearningMechanics.Bench;

/// <summary>
/// Square double GEMM C = A·Bᵀ: OpenBLAS called directly (the reference, baseline), through our binding
/// (<see cref="Blas.Gemm(Transpose, Transpose, int, int, int, double, ReadOnlySpan{double}, int, ReadOnlySpan{double}, int, double,
/// Span{double}, int)"/>),
/// and the managed fallback. Ratios are to the direct call in the same run.
/// </summary>
[MemoryDiagnoser]
public unsafe class GemmBenchmarks
{
    [Params(256, 512, 1024)] public int N;
    private double[] a = [];
    private double[] b = [];
    private double[] c = [];

    [DllImport("libopenblas.so.0")]
    private static extern void cblas_dgemm(int layout, int ta, int tb, int m, int n, int k, double alpha, double* a, int lda,
        double* b, int ldb, double beta, double* c, int ldc);

    [GlobalSetup]
    public void Setup()
    {
        a = new double[N * N]; b = new double[N * N]; c = new double[N * N];
        var rng = new Rng(1);
        rng.FillGaussian(a); rng.FillGaussian(b);
    }

    [Benchmark(Baseline = true)]
    public void OpenBlasDirect()
    {
        fixed (double* pa = a) fixed (double* pb = b) fixed (double* pc = c)
            cblas_dgemm(101, 111, 112, N, N, N, 1.0, pa, N, pb, N, 0.0, pc, N);
    }

    [Benchmark]
    public void Binding() => Blas.Gemm(Transpose.No, Transpose.Yes, N, N, N, 1.0, a, N, b, N, 0.0, c, N);

    [Benchmark]
    public void Managed() => ManagedBlas.Gemm(Transpose.No, Transpose.Yes, N, N, N, 1.0, a, N, b, N, 0.0, c, N);
}

/// <summary>
/// The same GEMM (through the binding, N = 1024) with OpenBLAS forced to different kernels by OPENBLAS_CORETYPE,
/// set in each job's process environment before the library loads. Baseline: OpenBLAS's own detection.
/// </summary>
public class CoreTypeBenchmarks
{
    private const int N = 1024;
    private double[] a = [];
    private double[] b = [];
    private double[] c = [];

    [GlobalSetup]
    public void Setup()
    {
        a = new double[N * N]; b = new double[N * N]; c = new double[N * N];
        var rng = new Rng(1);
        rng.FillGaussian(a); rng.FillGaussian(b);
    }

    [Benchmark]
    public void Gemm1024() => Blas.Gemm(Transpose.No, Transpose.Yes, N, N, N, 1.0, a, N, b, N, 0.0, c, N);
}

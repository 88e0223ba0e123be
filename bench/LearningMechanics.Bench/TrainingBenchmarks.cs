using System.Diagnostics;
using System.Globalization;
using BenchmarkDotNet.Attributes;
using LearningMechanics.Architecture;
using LearningMechanics.Data;
using LearningMechanics.Measurement.Observables;
using LearningMechanics.Networks;
using LearningMechanics.Numerics;
using LearningMechanics.Training;

namespace LearningMechanics.Bench;

/// <summary>
/// 100 SGD steps (forward, MSE, backward, update; full batch of 256 so no gathering) of an MLP with input 32, 4 hidden
/// ReLU layers of width N and a scalar readout, in SP (PyTorch's nn.Linear). The PyTorch reference is timed by
/// <c>bench/reference/train_step_torch.py</c> in the same run with the same thread count.
/// </summary>
public class TrainingStepBenchmarks
{
    public const int Steps = 100;
    public const int Batch = 256;
    public const int Input = 32;
    public const int Depth = 4;
    [Params(64, 256, 1024)] public int N;
    [Params("float64", "float32")] public string DType = "float64";
    private Action run = null!;

    public static NetworkSpec Spec(int n) =>
        NetworkSpec.Parse(string.Join("-", Enumerable.Repeat($"dense({n})-relu", Depth)) + "-dense(1)", Parameterization.Standard, 2, 0);

    [GlobalSetup]
    public void Setup()
    {
        var data = new Dataset(Rand(Batch, Input, 1), Rand(Batch, 1, 2));
        var o = new TrainingOptions(new MseLoss(), new OptimizerSettings(OptimizerKind.Gd, 1e-3), Steps);
        if (DType == "float64")
        {
            var net = new Network<double>(Spec(N), Input); net.Initialize(new Rng(3));
            var t = new Trainer<double>(net, data, o); run = () => t.Run();
        }
        else
        {
            var net = new Network<float>(Spec(N), Input); net.Initialize(new Rng(3));
            var t = new Trainer<float>(net, data, o); run = () => t.Run();
        }
    }

    [Benchmark] public void HundredSteps() => run();

    internal static Matrix Rand(int r, int c, ulong seed)
    {
        var m = new Matrix(r, c);
        new Rng(seed).FillGaussian(m.Data);
        return m;
    }

    /// <summary>
    /// Runs the benchmark, then the ratio table: lmech and PyTorch timed back to back for each case, three alternating
    /// rounds, best of 3 × 100 steps after a warm-up on both sides (this 2-vCPU machine's speed drifts by 2× over minutes,
    /// so only interleaved timings give a fair ratio). Also GFLOP/s of the step against the GEMM peak.
    /// </summary>
    public static void RunWithReference()
    {
        int threads = Blas.Threads;
        Console.WriteLine($"\nTraining steps/s (input {Input}, depth {Depth}, batch {Batch}, SGD, MSE), " +
            $"{threads} BLAS/torch threads, best of 3 interleaved rounds");
        Console.WriteLine("| width | dtype | lmech steps/s | PyTorch steps/s | ratio | lmech GFLOP/s | GEMM peak GFLOP/s | % of peak |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|");
        foreach (int n in new[] { 64, 256, 1024 })
            foreach (string dtype in new[] { "float64", "float32" })
            {
                double lmech = double.MaxValue;
                double torch = double.MaxValue;
                double peak = 0;
                bool haveTorch = true;
                for (int round = 0; round < 3; round++)
                {
                    lmech = Math.Min(lmech, LmechSecondsPerStep(n, dtype));
                    if (haveTorch && TorchSecondsPerStep(n, dtype, threads) is { } t) torch = Math.Min(torch, t); else haveTorch = false;
                    peak = Math.Max(peak, GemmPeak(dtype == "float32"));
                }
                double flops = 6.0 * Batch * ((double)Input * n + (Depth - 1.0) * n * n + n);
                double gflops = flops / lmech / 1e9;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {n} | {dtype} | {1 / lmech:F0} | " +
                    $"{(haveTorch ? (1 / torch).ToString("F0", CultureInfo.InvariantCulture) : "n/a")} | " +
                    $"{(haveTorch ? (torch / lmech).ToString("F2", CultureInfo.InvariantCulture) + "×" : "n/a")} | " +
                    $"{gflops:F1} | {peak:F1} | {100 * gflops / peak:F0} % |"));
            }
    }

    /// <summary>Best seconds per step over 3 runs of 100 steps, after one warm-up run (the same protocol as the PyTorch script).</summary>
    private static double LmechSecondsPerStep(int n, string dtype)
    {
        var b = new TrainingStepBenchmarks { N = n, DType = dtype };
        b.Setup();
        b.HundredSteps();
        double best = double.MaxValue;
        for (int r = 0; r < 3; r++)
        {
            var sw = Stopwatch.StartNew();
            b.HundredSteps();
            best = Math.Min(best, sw.Elapsed.TotalSeconds / Steps);
        }
        return best;
    }

    /// <summary>GFLOP/s of one 1024³ GEMM (best of 5), the peak the training step is compared with.</summary>
    private static double GemmPeak(bool single)
    {
        const int n = 1024;
        double best = double.MaxValue;
        if (single)
        {
            var a = new float[n * n];
            var c = new float[n * n];
            for (int r = 0; r < 6; r++)
            {
                var sw = Stopwatch.StartNew();
                Blas.Gemm(Transpose.No, Transpose.Yes, n, n, n, 1f, a, n, a, n, 0f, c, n);
                if (r > 0) best = Math.Min(best, sw.Elapsed.TotalSeconds);
            }
        }
        else
        {
            var a = new double[n * n];
            var c = new double[n * n];
            for (int r = 0; r < 6; r++)
            {
                var sw = Stopwatch.StartNew();
                Blas.Gemm(Transpose.No, Transpose.Yes, n, n, n, 1.0, a, n, a, n, 0.0, c, n);
                if (r > 0) best = Math.Min(best, sw.Elapsed.TotalSeconds);
            }
        }
        return 2.0 * n * n * n / best / 1e9;
    }

    private static double? TorchSecondsPerStep(int width, string dtype, int threads)
    {
        string script = Path.Combine(FindRepo(), "bench", "reference", "train_step_torch.py");
        try
        {
            var psi = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[]
                { script, width.ToString(CultureInfo.InvariantCulture), dtype, threads.ToString(CultureInfo.InvariantCulture), "100", "3" })
                psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            string output = p.StandardOutput.ReadToEnd(); p.StandardError.ReadToEnd(); p.WaitForExit();
            return p.ExitCode == 0 ? double.Parse(output.Trim(), CultureInfo.InvariantCulture) : null;
        }
        catch (System.ComponentModel.Win32Exception) { return null; }
    }

    internal static string FindRepo()
    {
        var d = new DirectoryInfo(AppContext.BaseDirectory);
        while (d is not null && !File.Exists(Path.Combine(d.FullName, "LearningMechanics.slnx"))) d = d.Parent;
        return d?.FullName ?? Directory.GetCurrentDirectory();
    }
}

/// <summary>
/// Cost of an exact Hessian-vector product (R-operator) in gradient-equivalents: gradient (baseline) vs HVP of the loss
/// over 256 points for the width-N, depth-4 MLP above.
/// </summary>
public class HessianBenchmarks
{
    [Params(256, 1024)] public int N;
    private Hessian h = null!;
    private double[] v = null!;
    private double[] hv = null!;

    [GlobalSetup]
    public void Setup()
    {
        var net = new Network<double>(TrainingStepBenchmarks.Spec(N), TrainingStepBenchmarks.Input); net.Initialize(new Rng(3));
        h = new Hessian(net, new Dataset(TrainingStepBenchmarks.Rand(256, 32, 1), TrainingStepBenchmarks.Rand(256, 1, 2)), new MseLoss());
        v = new double[net.ParameterCount]; hv = new double[net.ParameterCount];
        new Rng(4).FillGaussian(v);
    }

    [Benchmark(Baseline = true)] public double Gradient() => h.Gradient(hv);
    [Benchmark] public void HessianVectorProduct() => h.Multiply(v, hv);

    /// <summary>Sharpness of a ≈1M-parameter MLP (32 → 1000 → 1000 → 1) on 256 points by 20 Lanczos steps, timed once.</summary>
    public static void LanczosMillion()
    {
        var spec = NetworkSpec.Parse("dense(1000)-relu-dense(1000)-relu-dense(1)", Parameterization.Standard, 2, 0);
        var net = new Network<double>(spec, 32); net.Initialize(new Rng(3));
        var h = new Hessian(net, new Dataset(TrainingStepBenchmarks.Rand(256, 32, 1), TrainingStepBenchmarks.Rand(256, 1, 2)),
            new MseLoss());
        var g = new double[net.ParameterCount];
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < 5; i++) h.Gradient(g);
        double grad = sw.Elapsed.TotalSeconds / 5;
        sw.Restart();
        double lambda = h.Sharpness(20, new Rng(5));
        double lanczos = sw.Elapsed.TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Lanczos sharpness, {net.ParameterCount} parameters, 256 points, 20 steps: λ_max = {lambda:G6} in {lanczos:F2} s " +
            $"({lanczos / grad:F1} gradient-equivalents; one gradient {1000 * grad:F1} ms)"));
    }
}

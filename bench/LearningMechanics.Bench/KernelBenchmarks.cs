using System.Diagnostics;
using System.Globalization;
using System.Runtime.Intrinsics;
using LearningMechanics.Lab.Storage;
using LearningMechanics.Numerics;

namespace LearningMechanics.Bench;

/// <summary>
/// <c>lmech kernel ntk</c> for a depth-10 ReLU network (σ_w² = 2, σ_b² = 0.1) on N Gaussian inputs in 16 dimensions,
/// through the CLI as a user runs it (process start, reading, computing, writing the N×N NPY), against
/// <c>bench/reference/nngp_ntk_numpy.py</c> (the same recursion vectorised in numpy) on the same file, alternately in three
/// rounds; and against an arithmetic bound: the triangle's N(N + 1)/2 entries × 10 ReLU layers, each needing three
/// square roots and two divisions per lane (the norm, arccos's √z and rational, sin δ, the correlation), timed as a
/// loop of exactly those operations on both cores in the same run.
/// </summary>
public static class KernelBenchmarks
{
    private const int Depth = 10;

    public static void RunWithReference(int n = 4000)
    {
        string repo = TrainingStepBenchmarks.FindRepo();
        string lmech = Path.Combine(repo, "src", "LearningMechanics.Cli", "bin", "Release", "net10.0", "lmech");
        string script = Path.Combine(repo, "bench", "reference", "nngp_ntk_numpy.py");
        string dir = Directory.CreateTempSubdirectory("lmech-kernel-bench-").FullName;
        try
        {
            string x = Path.Combine(dir, "x.npy");
            var m = new Matrix(n, 16);
            new Rng(0).FillGaussian(m.Data);
            using (var sink = new MatrixSink(x, n, 16)) { sink.WriteRows(m.Data, n); sink.Commit(); }
            string arch = string.Join("-", Enumerable.Repeat("dense(512)-relu", Depth)) + "-dense(1)";
            double bound = ArithmeticBoundSeconds(n);
            Console.WriteLine($"\nKernel NTK, N = {n}, depth {Depth} ReLU: lmech CLI wall time vs numpy reference, 3 alternating rounds");
            Console.WriteLine("| round | lmech CLI (wall) | numpy reference | ratio | arithmetic bound | lmech / bound |");
            Console.WriteLine("|---|---|---|---|---|---|");
            for (int round = 1; round <= 3; round++)
            {
                var sw = Stopwatch.StartNew();
                Run(lmech, "kernel", "ntk", "--arch", arch, "--x", x, "--out", Path.Combine(dir, "K.npy"), "--sw2", "2", "--sb2", "0.1",
                    "--json");
                double ours = sw.Elapsed.TotalSeconds;
                double? numpy = double.TryParse(Run("/usr/bin/python3", script, x, Depth.ToString(CultureInfo.InvariantCulture), "2",
                    "0.1"), CultureInfo.InvariantCulture, out double s) ? s : null;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {round} | {ours:F2} s | {(numpy is { } a ? $"{a:F2} s" : "n/a")} | " +
                    $"{(numpy is { } b ? $"{b / ours:F1}×" : "n/a")} | {bound:F2} s | {ours / bound:F1} |"));
            }
        }
        finally { Directory.Delete(dir, true); }
    }

    private static string Run(string exe, params string[] args)
    {
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        try
        {
            using var p = Process.Start(psi)!;
            string output = p.StandardOutput.ReadToEnd();
            p.StandardError.ReadToEnd();
            p.WaitForExit();
            return p.ExitCode == 0 ? output.Trim() : "";
        }
        catch (System.ComponentModel.Win32Exception) { return ""; }
    }

    /// <summary>Seconds for 3 square roots and 2 divisions per entry over the triangle × depth, on all cores (best of 3).</summary>
    private static double ArithmeticBoundSeconds(int n)
    {
        long entries = (long)n * (n + 1) / 2 * Depth;
        int cores = Environment.ProcessorCount;
        long perCore = entries / cores / 4;   // four lanes a vector
        double best = double.MaxValue;
        for (int r = 0; r < 3; r++)
        {
            var sw = Stopwatch.StartNew();
            var sums = new double[cores];
            Parallel.For(0, cores, c =>
            {
                // Eight independent chains, so the loop is bound by the units' throughput, not by their latency.
                var a = new Vector256<double>[8];
                for (int i = 0; i < 8; i++) a[i] = Vector256.Create(1.0 + i);
                var one = Vector256.Create(1.0 + 1e-9);
                for (long i = 0; i < perCore; i += 8)
                    for (int l = 0; l < 8; l++)
                    {
                        var v = a[l];
                        v = Vector256.Sqrt(Vector256.Sqrt(Vector256.Sqrt(v) / one)) / one;
                        a[l] = v + one;
                    }
                double s = 0;
                for (int i = 0; i < 8; i++) s += a[i].GetElement(0);
                sums[c] = s;
            });
            best = Math.Min(best, sw.Elapsed.TotalSeconds);
            if (sums.Sum() == 0) Console.WriteLine();   // keeps the loop's result alive
        }
        return best;
    }
}

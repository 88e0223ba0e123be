using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using LearningMechanics.Architecture;
using LearningMechanics.Lab;
using LearningMechanics.Lab.Storage;
using LearningMechanics.Numerics;
using LearningMechanics.Theory.Kernels;

namespace LearningMechanics.Cli;

/// <summary><c>lmech kernel nngp|ntk --arch SPEC --x FILE [--x2 FILE] --out FILE</c>: infinite-width kernels for user data.</summary>
internal static class KernelCommand
{
    /// <summary>Up to this many entries the matrix is built in memory (symmetric: half the work); beyond, it streams to disk.</summary>
    private const long InMemoryEntries = 36_000_000;

    /// <summary>Up to this size a symmetric result is checked to be positive semidefinite (an O(N³) eigendecomposition).</summary>
    private const int PsdCheckMaxRows = 3000;

    public static Command Build()
    {
        var kind = new Argument<string>("kind") { Description = "nngp or ntk" };
        var arch = new Option<string>("--arch")
            { Description = "architecture, e.g. dense(512)-relu-dense(512)-relu-dense(1)", Required = true };
        var x = new Option<string>("--x") { Description = "inputs, one per row (.csv or .npy)", Required = true };
        var x2 = new Option<string?>("--x2") { Description = "second input set for an N×M block (default: x against itself)" };
        var output = new Option<string>("--out") { Description = "output matrix (.npy or .csv)", Required = true };
        var param = new Option<string>("--param")
            { Description = "parameterisation: ntk, sp (mup and mf have no fixed kernel)", DefaultValueFactory = _ => "ntk" };
        var sw2 = new Option<double>("--sw2") { Description = "default weight variance σ_w²", DefaultValueFactory = _ => 1.0 };
        var sb2 = new Option<double>("--sb2") { Description = "default bias variance σ_b²", DefaultValueFactory = _ => 0.0 };
        var dtype = new Option<string>("--dtype") { Description = "float64 or float32 output", DefaultValueFactory = _ => "float64" };
        var json = new Option<bool>("--json") { Description = "print one JSON object describing the result" };
        var force = new Option<bool>("--force")
            { Description = "compute even when the output is larger than the free disk space or the work beyond 10¹⁴ operations" };
        var cmd = new Command("kernel", "Infinite-width NNGP or NTK kernel matrix of an architecture on your inputs.")
            { kind, arch, x, x2, output, param, sw2, sb2, dtype, json, force };
        cmd.SetAction(p => Run(p.GetValue(kind)!, p.GetValue(arch)!, p.GetValue(x)!, p.GetValue(x2), p.GetValue(output)!,
            p.GetValue(param)!, p.GetValue(sw2), p.GetValue(sb2), p.GetValue(dtype)!, p.GetValue(json), p.GetValue(force)));
        return cmd;
    }

    /// <summary>
    /// Refuses, before any work, a kernel whose output does not fit on the output's file system (8 or 4 bytes an entry in NPY,
    /// about 25 or 15 characters in CSV) or whose work is beyond <see cref="Runner.MaxFlops"/> (per entry about 2d operations
    /// for the input Gram and 100 per layer of the recursion).
    /// </summary>
    private static void CheckResources(NetworkSpec spec, int d, int n, int m, string outPath, bool float32)
    {
        double entries = (double)n * m;
        bool csv = outPath.EndsWith(".csv", StringComparison.OrdinalIgnoreCase);
        double bytes = entries * (csv ? (float32 ? 15 : 25) : (float32 ? 4 : 8));
        string full = Path.GetFullPath(outPath);
        var drive = DriveInfo.GetDrives().Where(v => v.IsReady && full.StartsWith(v.RootDirectory.FullName, StringComparison.Ordinal))
            .MaxBy(v => v.RootDirectory.FullName.Length);
        if (drive is not null && bytes > drive.AvailableFreeSpace)
            throw new BadInputException(string.Create(CultureInfo.InvariantCulture,
                $"The {n}×{m} kernel needs about {bytes / 1e9:0.#} GB in {outPath}; {drive.RootDirectory.FullName} has ") +
                string.Create(CultureInfo.InvariantCulture, $"{drive.AvailableFreeSpace / 1e9:0.#} GB free. Use fewer inputs, ") +
                "--dtype float32, or pass --force to write it anyway.");
        double flops = entries * (2.0 * d + 100.0 * spec.Layers.Count);
        if (Runner.Refusal("kernel", new ResourceEstimate(flops, 0)) is { } why) throw new BadInputException(why);
    }

    private static int Run(string kind, string arch, string xPath, string? x2Path, string outPath, string param, double sw2, double sb2,
        string dtype, bool json, bool force)
    {
        kind = kind.ToLowerInvariant();
        if (kind is not ("nngp" or "ntk")) throw new BadInputException($"Unknown kernel '{kind}'. Allowed: nngp, ntk.");
        if (dtype is not ("float64" or "float32")) throw new BadInputException($"Unknown dtype '{dtype}'. Allowed: float64, float32.");
        var spec = NetworkSpec.Parse(arch, ParameterizationNames.Parse(param), sw2, sb2);
        var x = DataFiles.ReadMatrix(xPath);
        var x2 = x2Path is null ? null : DataFiles.ReadMatrix(x2Path);
        int n = x.Rows;
        int m = (x2 ?? x).Rows;
        bool ntk = kind == "ntk";
        if (!force) CheckResources(spec, x.Cols, n, m, outPath, dtype == "float32");
        var clock = Stopwatch.StartNew();
        double? minEigen = null;
        using (var sink = new MatrixSink(outPath, n, m, dtype == "float32"))
        {
            if ((long)n * m <= InMemoryEntries)
            {
                var result = NeuralKernels.ComputeOne(spec, x, x2,
                    new KernelOptions(Ntk: ntk, Progress: json ? null : new ConsoleProgress("kernel")));
                if (x2 is null && n <= PsdCheckMaxRows) minEigen = NeuralKernels.RequirePositiveSemidefinite(result, kind);
                sink.WriteRows(result.Data, n);
            }
            else
            {
                var progress = json ? null : new ConsoleProgress("kernel");
                NeuralKernels.Stream(spec, x, x2, new KernelOptions(Ntk: ntk, Progress: progress),
                    (_, rows, k, t) => sink.WriteRows(ntk ? t : k, rows));
            }
            sink.Commit();
        }
        double seconds = clock.Elapsed.TotalSeconds;
        if (json)
            Console.WriteLine(JsonSerializer.Serialize<object>(new Dictionary<string, object?>
            {
                ["kernel"] = kind, ["arch"] = spec.ToText(), ["param"] = spec.Param.ToText(), ["sw2"] = sw2, ["sb2"] = sb2,
                ["rows"] = n, ["cols"] = m, ["out"] = Path.GetFullPath(outPath), ["dtype"] = dtype,
                ["min_eigenvalue"] = minEigen, ["seconds"] = Math.Round(seconds, 3), ["blas"] = Blas.Backend,
            }, Lmech.Json));
        else
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{kind.ToUpperInvariant()} {n}×{m} of {spec.ToText()} ({spec.Param.ToText()}, σ_w²={sw2}, σ_b²={sb2}) " +
                $"written to {outPath} in {seconds:F2} s."));
        return Lmech.Ok;
    }
}

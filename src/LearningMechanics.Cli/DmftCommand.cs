using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using LearningMechanics.Architecture;
using LearningMechanics.Lab;
using LearningMechanics.Lab.Reports;
using LearningMechanics.Lab.Storage;
using LearningMechanics.Numerics;
using LearningMechanics.Theory.MeanField;

namespace LearningMechanics.Cli;

/// <summary>
/// <c>lmech dmft</c>: the infinite-width (DMFT) prediction of a two-layer mean-field network's GD training on the given data
/// (<see cref="TwoLayerDmft"/>; Bordelon &amp; Pehlevan 2022): loss curve with its Monte Carlo SE, the feature kernel Φ(t, t),
/// the NTK Θ(t) and the outputs at the recorded steps, as CSV/NPY and an HTML report. <c>lmech train</c> with the same
/// <c>--arch --param mf --gamma0 --lr --steps</c> gives the finite-width curve to compare with.
/// </summary>
internal static class DmftCommand
{
    public static Command Build()
    {
        var arch = new Option<string>("--arch")
            { Description = "two-layer architecture dense(n)-φ-dense(C); n is irrelevant (the limit n → ∞)", Required = true };
        var param = new Option<string>("--param")
            { Description = "mf (mean-field), or mup with σ_w² = 1, σ_b² = 0", DefaultValueFactory = _ => "mf" };
        var gamma0 = new Option<double>("--gamma0")
            { Description = "richness γ₀ (→ 0: the lazy NTK limit)", DefaultValueFactory = _ => 1.0 };
        var x = new Option<string>("--x") { Description = "training inputs (.csv/.npy), one row per point", Required = true };
        var y = new Option<string>("--y") { Description = "training targets, one row per point", Required = true };
        var steps = new Option<int>("--steps") { Description = "full-batch GD steps", DefaultValueFactory = _ => 1000 };
        var lr = new Option<double>("--lr") { Description = "learning rate η (as in lmech train)", DefaultValueFactory = _ => 0.5 };
        var sw2 = new Option<double>("--sw2") { Description = "σ_w²", DefaultValueFactory = _ => 1.0 };
        var sb2 = new Option<double>("--sb2")
            { Description = "σ_b² (the readout must have none: dense(C,sb2=0))", DefaultValueFactory = _ => 0.0 };
        var samples = new Option<int>("--samples") { Description = "Monte Carlo neurons S", DefaultValueFactory = _ => 65536 };
        var replicas = new Option<int>("--replicas")
            { Description = "independent replicas (their spread is the SE)", DefaultValueFactory = _ => 8 };
        var every = new Option<int>("--record-every")
            { Description = "record every K steps (0: about 50 records)", DefaultValueFactory = _ => 0 };
        var seed = new Option<ulong>("--seed") { Description = "seed of the Monte Carlo draws", DefaultValueFactory = _ => 42UL };
        var outDir = new Option<string>("--out") { Description = "output folder", DefaultValueFactory = _ => "lmech-dmft" };
        var json = new Option<bool>("--json") { Description = "print one JSON object" };
        var force = new Option<bool>("--force")
            { Description = "solve even when the estimated work is beyond the limit (10¹⁴ operations)" };
        var cmd = new Command("dmft", "Infinite-width (DMFT) prediction of a two-layer mean-field network's training: loss, feature " +
            "kernel and NTK over time (Bordelon & Pehlevan 2022).")
            { arch, param, gamma0, x, y, steps, lr, sw2, sb2, samples, replicas, every, seed, outDir, json, force };
        cmd.SetAction(p => Run(p.GetValue(arch)!, p.GetValue(param)!, p.GetValue(gamma0), p.GetValue(x)!, p.GetValue(y)!,
            p.GetValue(steps), p.GetValue(lr), p.GetValue(sw2), p.GetValue(sb2), p.GetValue(samples), p.GetValue(replicas),
            p.GetValue(every), p.GetValue(seed), p.GetValue(outDir)!, p.GetValue(json), p.GetValue(force)));
        return cmd;
    }

    private static int Run(string archText, string paramText, double gamma0, string xPath, string yPath, int steps, double lr,
        double sw2, double sb2, int samples, int replicas, int every, ulong seed, string dir, bool json, bool force)
    {
        var spec = NetworkSpec.Parse(archText, ParameterizationNames.Parse(paramText), sw2, sb2) with { Gamma0 = gamma0 };
        var xs = DataFiles.ReadMatrix(xPath);
        var ys = DataFiles.ReadMatrix(yPath);
        if (ys.Rows != xs.Rows) throw new BadInputException($"{yPath} has {ys.Rows} rows but {xPath} has {xs.Rows} inputs.");
        if (steps < 0) throw new BadInputException($"--steps {steps} must be ≥ 0.");
        if (every < 0) throw new BadInputException($"--record-every {every} must be ≥ 0 (0: about 50 records).");
        var problem = TwoLayerProblem.FromSpec(spec, xs, ys, lr, steps);
        int recordEvery = every > 0 ? every : Math.Max(1, steps / 50);
        double flops = 2.0 * samples * problem.Points * (2.0 * problem.Points + 3 * problem.Outputs) * (steps + 1);
        double bytes = 8.0 * samples * (4.0 * problem.Points + 2 * problem.Outputs);
        if (!force && Runner.Refusal("dmft", new ResourceEstimate(flops, bytes)) is { } why) throw new BadInputException(why);
        var started = DateTime.UtcNow;
        var clock = Stopwatch.StartNew();
        var solution = TwoLayerDmft.Solve(problem, samples, replicas, recordEvery, new Rng(seed),
            json ? null : new ConsoleProgress("dmft"));
        Directory.CreateDirectory(dir);
        var output = Output(problem, solution);
        var config = new Dictionary<string, string>
        {
            ["arch"] = spec.ToText(), ["param"] = spec.Param.ToText(), ["gamma0"] = Num(gamma0), ["lr"] = Num(lr),
            ["steps"] = Num(steps), ["points"] = Num(problem.Points), ["outputs"] = Num(problem.Outputs), ["samples"] = Num(samples),
            ["replicas"] = Num(replicas), ["record_every"] = Num(recordEvery), ["x"] = xPath, ["y"] = yPath,
            ["status"] = solution.Status, ["final_loss"] = Num(solution.Loss[^1]),
        };
        if (solution.DivergedAt is { } d) config["diverged_at_step"] = Num(d);
        output.Timings["solve_s"] = solution.Seconds;
        var run = new RunRecord($"dmft-{started:yyyyMMdd'T'HHmmss'Z'}", "dmft", "DMFT prediction of a two-layer network's training",
            "loss, feature kernel and NTK of the infinite-width mean-field network", "Bordelon & Pehlevan 2022",
            RunRecord.LibraryVersion, seed, RunMode.Quick, config, output, started, clock.Elapsed.TotalSeconds, dir);
        File.WriteAllText(Path.Combine(dir, "loss.csv"), CsvWriter.ToCsv(output.Tables["loss"]));
        WriteNpy(Path.Combine(dir, "phi.npy"), solution.Phi);
        WriteNpy(Path.Combine(dir, "ntk.npy"), solution.Ntk);
        WriteNpy(Path.Combine(dir, "outputs.npy"), solution.Outputs);
        File.WriteAllText(Path.Combine(dir, "result.json"), ResultJson.Serialize(run));
        File.WriteAllText(Path.Combine(dir, "report.html"), HtmlReport.Render(run, ["loss.csv"]));
        string report = Path.GetFullPath(Path.Combine(dir, "report.html"));
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
            {
                ["status"] = solution.Status, ["diverged_at_step"] = solution.DivergedAt,
                ["final_loss"] = Finite(solution.Loss[^1]), ["final_loss_se"] = Finite(solution.LossSe[^1]),
                ["records"] = solution.Steps.Length, ["samples"] = samples, ["seconds"] = Math.Round(solution.Seconds, 2),
                ["report"] = report,
            }, Lmech.Json));
            return Lmech.Ok;
        }
        Console.WriteLine(solution.Diverged
            ? $"The DMFT diverged at step {solution.DivergedAt} (loss above {TwoLayerDmft.DivergenceFactor:G2} × max(1, mean y²)): " +
                "lower --lr. The records before it are written."
            : string.Create(CultureInfo.InvariantCulture,
                $"DMFT loss after {steps} steps: {solution.Loss[^1]:G5} ± {solution.LossSe[^1]:G2} (from {solution.Loss[0]:G4}; ") +
                string.Create(CultureInfo.InvariantCulture, $"{samples} neurons in {replicas} replicas, {solution.Seconds:F1} s)."));
        Console.WriteLine($"Report: {report}");
        return Lmech.Ok;
    }

    private static double? Finite(double v) => double.IsFinite(v) ? v : null;

    private static string Num(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Records × (rows·cols) in float64: row k is the matrix at the k-th recorded step, row-major
    /// (numpy: <c>np.load(f).reshape(records, rows, cols)</c>).</summary>
    private static void WriteNpy(string path, Matrix[] records)
    {
        int size = records[0].Data.Length;
        using var sink = new MatrixSink(path, records.Length, size);
        foreach (var m in records) sink.WriteRows(m.Data, 1);
        sink.Commit();
    }

    /// <summary>The loss table and the plots of the report.</summary>
    private static ExperimentOutput Output(TwoLayerProblem problem, DmftSolution s)
    {
        var output = new ExperimentOutput();
        var k = Enumerable.Range(0, s.Steps.Length).ToArray();
        double Top(int i) => s.Ntk[i].Data.Any(v => !double.IsFinite(v)) ? double.NaN : Lapack.SymmetricEigen(s.Ntk[i]).Values[^1];
        output.Tables["loss"] = SeriesTable.FromRows(k, ("step", i => (double)s.Steps[i]), ("loss", i => s.Loss[i]),
            ("loss_se", i => s.LossSe[i]), ("ntk_top", i => Top(i)), ("phi_trace", i => Trace(s.Phi[i]) / problem.Points));
        var ok = k.Where(i => double.IsFinite(s.Loss[i])).ToArray();
        double[] t = [.. ok.Select(i => (double)s.Steps[i])];
        output.Plots.Add(new PlotSpec("DMFT training loss", "GD step", "MSE",
            [new SeriesSpec("DMFT", t, [.. ok.Select(i => s.Loss[i])], SeriesKind.Line, [.. ok.Select(i => s.LossSe[i])])],
            LogY: true, Caption: $"γ₀ = {problem.Gamma0}, η = {problem.LearningRate}; ± SE over {s.Replicas.Length} replicas."));
        int shown = Math.Min(problem.Points, 4);
        var phi = Enumerable.Range(0, shown).Select(m => new SeriesSpec($"Φ({m},{m})", t, [.. ok.Select(i => s.Phi[i][m, m])],
            SeriesKind.Line)).ToList();
        if (problem.Points > 1) phi.Add(new SeriesSpec("Φ(0,1)", t, [.. ok.Select(i => s.Phi[i][0, 1])], SeriesKind.Line, Dashed: true));
        output.Plots.Add(new PlotSpec("Feature kernel Φ(t, t)", "GD step", "Φ", phi,
            Caption: "Entries of the hidden feature kernel on the first training points; they move when features are learned."));
        output.Plots.Add(new PlotSpec("Top NTK eigenvalue", "GD step", "λ_max(Θ)",
            [new SeriesSpec("DMFT", t, [.. ok.Select(Top)], SeriesKind.Line)],
            Caption: "Θ = σ_r²(Φ + G ⊙ K⁰), the kernel of the GD step; constant in the lazy limit γ₀ → 0."));
        return output;
    }

    private static double Trace(Matrix m)
    {
        double s = 0;
        for (int i = 0; i < m.Rows; i++) s += m[i, i];
        return s;
    }
}

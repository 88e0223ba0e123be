using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using LearningMechanics.Lab;
using LearningMechanics.Lab.Sweeps;
using LearningMechanics.Numerics;
using Spectre.Console;

namespace LearningMechanics.Cli;

/// <summary>
/// <c>lmech lr-sweep</c>: a learning-rate finder for any architecture and data. A grid of <c>lmech train</c> runs over a log₂
/// learning-rate range (and widths, with <c>{n}</c> in the architecture) × seeds goes through the sweep engine (local
/// processes or Slurm), then the training loss against the learning rate per width, the optimum per width
/// (<see cref="LearningRateOptimum"/>) and, with several widths, how the optimum moves with width (μP: it should not).
/// </summary>
internal static class LrSweepCommand
{
    public static Command Build()
    {
        var arch = new Option<string>("--arch")
            { Description = "architecture; {n} stands for the width, e.g. dense({n})-relu-dense({n})-relu-dense(10)", Required = true };
        var widths = new Option<string?>("--widths") { Description = "comma-separated widths for {n}" };
        var lrs = new Option<string>("--lrs") { Description = "log₂ learning rates FROM:TO, e.g. -12:0", Required = true };
        var step = new Option<double>("--lr-step") { Description = "grid step in log₂ η", DefaultValueFactory = _ => 1.0 };
        var seeds = new Option<string>("--seeds") { Description = "comma-separated seeds", DefaultValueFactory = _ => "1,2,3" };
        var param = new Option<string>("--param") { Description = "ntk, sp, mup or mf", DefaultValueFactory = _ => "sp" };
        var baseWidth = new Option<double?>("--base-width") { Description = "μP's base width n₀" };
        var opt = new Option<string>("--opt") { Description = "gd, sgd, momentum or adam", DefaultValueFactory = _ => "sgd" };
        var loss = new Option<string>("--loss") { Description = "mse or ce", DefaultValueFactory = _ => "mse" };
        var data = new Option<string?>("--data")
            { Description = "built-in data (fashion-mnist, mixture, teacher); or --train x=F --train y=F" };
        var steps = new Option<int>("--steps") { Description = "optimiser steps per run", DefaultValueFactory = _ => 200 };
        var batch = new Option<int>("--batch") { Description = "mini-batch size (0 = full batch)", DefaultValueFactory = _ => 0 };
        var train = new Option<string[]>("--train")
            { Description = "any other lmech train option as key=value, e.g. x=X.npy, sw2=2, zero-readout=true (repeatable)" };
        var outDir = new Option<string>("--out") { Description = "the sweep folder", Required = true };
        var json = new Option<bool>("--json") { Description = "print one JSON object" };
        var executor = new ExecutorOptions("local");
        var cmd = new Command("lr-sweep", "Learning-rate finder: loss vs learning rate per width, the fitted optima and their drift " +
            "with width (through the sweep engine: local processes or Slurm).")
        { arch, widths, lrs, step, seeds, param, baseWidth, opt, loss, data, steps, batch, train, outDir, json };
        executor.AddTo(cmd);
        cmd.SetAction(p =>
        {
            var grid = Log2Grid(p.GetValue(lrs)!, p.GetValue(step));
            string a = p.GetValue(arch)!;
            var ws = Widths(a, p.GetValue(widths));
            var baseValues = new SortedDictionary<string, string>(StringComparer.Ordinal)
            {
                ["arch"] = a.Replace("{n}", "{width}", StringComparison.Ordinal), ["param"] = p.GetValue(param)!,
                ["opt"] = p.GetValue(opt)!, ["loss"] = p.GetValue(loss)!,
                ["steps"] = p.GetValue(steps).ToString(CultureInfo.InvariantCulture),
                ["batch"] = p.GetValue(batch).ToString(CultureInfo.InvariantCulture),
            };
            if (p.GetValue(data) is { } d) baseValues["data"] = d;
            if (p.GetValue(baseWidth) is { } n0) baseValues["base-width"] = n0.ToString("R", CultureInfo.InvariantCulture);
            foreach (var (k, v) in Settings.ParsePairs(p.GetValue(train) ?? []))
                if (!baseValues.TryAdd(k, v)) throw new BadInputException($"--train {k}=… repeats an option lr-sweep sets itself.");
            var axes = new List<(string Name, string[] Values)>
                { ("lr", [.. grid.Select(g => Math.Pow(2, g).ToString("R", CultureInfo.InvariantCulture))]) };
            if (ws.Length > 0) axes.Add(("width", [.. ws.Select(w => w.ToString(CultureInfo.InvariantCulture))]));
            var spec = new SweepSpec("lr-sweep", "train", baseValues, axes, AxisCombination.Cross, SeedList(p.GetValue(seeds)!),
                ["final_train_loss", "status"]);
            string dir = p.GetValue(outDir)!;
            var plan = SweepPlan.From(spec);
            plan.Write(dir);
            new UnitExecutor(executor.Kind(p)!, executor.Jobs(p), executor.Slurm(p), SweepCommand.LmechCommand())
                .Complete(dir, plan, new ConsoleProgress("lr-sweep"));
            SweepCollector.Collect(dir);
            return Report(dir, plan, grid, ws, spec.Seeds, p.GetValue(json));
        });
        return cmd;
    }

    private static double[] Log2Grid(string text, double step)
    {
        var parts = text.Split(':');
        if (parts.Length != 2 || !double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double from)
            || !double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double to))
            throw new BadInputException($"--lrs '{text}' must be FROM:TO in log₂ η, e.g. -12:0.");
        if (!(step > 0)) throw new BadInputException($"--lr-step {step} must be > 0.");
        int count = (int)Math.Floor((to - from) / step + 1e-9) + 1;
        if (count < 3)
            throw new BadInputException($"--lrs {text} with step {step} gives {Math.Max(count, 0)} learning rates; need ≥ 3.");
        if (count > 200) throw new BadInputException($"--lrs {text} with step {step} gives {count} learning rates; at most 200.");
        return [.. Enumerable.Range(0, count).Select(i => from + i * step)];
    }

    private static int[] Widths(string arch, string? text)
    {
        bool templated = arch.Contains("{n}", StringComparison.Ordinal);
        if (text is null)
            return templated ? throw new BadInputException("The architecture has {n}: give --widths, e.g. --widths 64,128,256.") : [];
        if (!templated) throw new BadInputException("--widths needs {n} in --arch for the width.");
        var ws = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(w => int.TryParse(w, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v >= 1 ? v
                : throw new BadInputException($"--widths: '{w}' is not a positive integer.")).Distinct().Order().ToArray();
        return ws.Length > 0 ? ws : throw new BadInputException("--widths is empty.");
    }

    private static ulong[] SeedList(string text) =>
        [.. text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(s =>
            ulong.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out ulong v) ? v
                : throw new BadInputException($"--seeds: '{s}' is not an integer ≥ 0.")).Distinct()];

    /// <summary>Mean final training loss per (width, learning rate) over seeds, the optimum per width and its slope.</summary>
    private static int Report(string dir, SweepPlan plan, double[] grid, int[] widths, IReadOnlyList<ulong> seeds, bool json)
    {
        var layout = new SweepLayout(dir);
        // Each result read once, found by its (lr, width, seed) values.
        var results = plan.Tasks.ToDictionary(t => (t.Values["lr"], t.Values.GetValueOrDefault("width", ""), t.Seed),
            t => SweepTaskRunner.ReadResult(layout.ResultFile(t.Hash)));
        int missing = results.Values.Count(r => r is null);
        int[] ws = widths.Length > 0 ? widths : [0];
        string Lr(double g) => Math.Pow(2, g).ToString("R", CultureInfo.InvariantCulture);
        double Loss(int w, int i, int s)
        {
            var r = results[(Lr(grid[i]), w == 0 ? "" : w.ToString(CultureInfo.InvariantCulture), seeds[s])];
            return r is not null && r.Metrics.TryGetValue("final_train_loss", out var v) && v.ValueKind == JsonValueKind.Number
                ? v.GetDouble() : double.NaN;
        }
        // loss[w][lr][seed]; a diverged or missing run counts as the worst finite loss of its width (never as an optimum).
        var loss = ws.Select(w => grid.Select((_, i) => seeds.Select((_, s) => Loss(w, i, s)).ToArray()).ToArray()).ToArray();
        foreach (var curve in loss)
        {
            double worst = curve.SelectMany(l => l).Where(double.IsFinite).DefaultIfEmpty(double.NaN).Max();
            foreach (var l in curve) for (int s = 0; s < l.Length; s++) if (!double.IsFinite(l[s])) l[s] = worst;
        }
        var log2W = ws.Select(w => w > 0 ? Math.Log2(w) : 0).ToArray();
        var (slope, se, optima) = LearningRateOptimum.WithBootstrap(log2W, grid, loss, seeds.Count, new Rng(0xB007));
        var means = loss.Select(c => c.Select(l => l.Average()).ToArray()).ToArray();
        string report = Path.GetFullPath(Path.Combine(dir, "report.html"));
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
            {
                ["widths"] = widths, ["log2_lrs"] = grid, ["mean_final_train_loss"] = means, ["optimum_log2_lr"] = optima,
                ["optimum_slope"] = slope, ["optimum_slope_se"] = double.IsFinite(se) ? se : null, ["missing_runs"] = missing,
                ["report"] = report,
            }, Lmech.Json));
            return missing > 0 ? Lmech.NotEvaluated : Lmech.Ok;
        }
        var table = new Spectre.Console.Table { Title = new TableTitle("mean final training loss over seeds") };
        table.AddColumn("log₂ η");
        foreach (int w in ws) table.AddColumn(w > 0 ? $"n = {w}" : "loss");
        for (int i = 0; i < grid.Length; i++)
            table.AddRow([grid[i].ToString("G4", CultureInfo.InvariantCulture),
                .. means.Select(m => m[i].ToString("G4", CultureInfo.InvariantCulture))]);
        table.AddRow(["optimum", .. optima.Select(o => o is { } v ? v.ToString("F2", CultureInfo.InvariantCulture) : "at grid edge")]);
        AnsiConsole.Write(table);
        if (widths.Length >= 2)
        {
            string line = slope is { } v
                ? FormattableString.Invariant($"Optimum vs log₂ width: slope {v:F3} ± {se:F3} (bootstrap over seeds; 0 = the ") +
                    "learning rate transfers, as μP predicts; −1 = it falls as 1/n)."
                : "Optimum vs width: an optimum lies at the grid's edge; widen --lrs.";
            Console.WriteLine(line);
        }
        if (missing > 0) Console.WriteLine($"{missing} runs have no result (see 'lmech sweep status {dir}').");
        Console.WriteLine($"Report: {report}");
        return missing > 0 ? Lmech.NotEvaluated : Lmech.Ok;
    }
}

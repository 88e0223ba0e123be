using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using LearningMechanics.Lab;
using LearningMechanics.Lab.Reports;
using LearningMechanics.Lab.Storage;
using LearningMechanics.Numerics;
using Spectre.Console;
using Table = Spectre.Console.Table;

namespace LearningMechanics.Cli;

/// <summary>
/// <c>lmech scaling-fit FILE.csv</c>: fits L(N, D) = E + A/N^α + B/D^β to any table of runs the way Hoffmann et al. 2022
/// (approach 3) did (<see cref="ScalingLawFit"/>), with bootstrap intervals, the compute-optimal allocation, and with
/// <c>--exclude-top K</c> a check of the fit's predictions on the K largest-compute runs it did not see.
/// </summary>
internal static class ScalingFitCommand
{
    public static Command Build()
    {
        var file = new Argument<string>("file") { Description = "CSV table with a header line, one row per training run" };
        var nCol = new Option<string>("--n") { Description = "column of model sizes N", DefaultValueFactory = _ => "params" };
        var dCol = new Option<string>("--d") { Description = "column of data sizes D", DefaultValueFactory = _ => "tokens" };
        var lossCol = new Option<string>("--loss") { Description = "column of final losses", DefaultValueFactory = _ => "loss" };
        var boot = new Option<int>("--bootstrap") { Description = "bootstrap replicates", DefaultValueFactory = _ => 200 };
        var exclude = new Option<int>("--exclude-top")
        {
            Description = "hold out the K runs of largest compute 6ND and check the fit's predictions on them",
            DefaultValueFactory = _ => 0,
        };
        var seed = new Option<ulong>("--seed") { Description = "seed of the bootstrap", DefaultValueFactory = _ => 42UL };
        var outDir = new Option<string?>("--out") { Description = "also write DIR/report.html (plots) and DIR/fit.csv" };
        var json = new Option<bool>("--json") { Description = "print one JSON object" };
        var cmd = new Command("scaling-fit", "Fit a scaling law L(N, D) = E + A/N^α + B/D^β to a table of runs (Hoffmann et al. 2022, " +
            "approach 3: Huber loss on log L, L-BFGS from a grid, bootstrap intervals) and derive N_opt ∝ C^{β/(α+β)}.")
            { file, nCol, dCol, lossCol, boot, exclude, seed, outDir, json };
        cmd.SetAction(p => Run(p.GetValue(file)!, p.GetValue(nCol)!, p.GetValue(dCol)!, p.GetValue(lossCol)!, p.GetValue(boot),
            p.GetValue(exclude), p.GetValue(seed), p.GetValue(outDir), p.GetValue(json)));
        return cmd;
    }

    private static int Run(string file, string nCol, string dCol, string lossCol, int replicates, int excludeTop, ulong seed,
        string? outDir, bool json)
    {
        var (cols, lines) = CsvTable.ReadColumns(file, nCol, dCol, lossCol);
        double[] n = cols[0], d = cols[1], loss = cols[2];
        ScalingLawFit.Validate(n, d, loss, [$"column '{nCol}'", $"column '{dCol}'", $"column '{lossCol}'"],
            i => $"{file}, line {lines[i]}");
        if (excludeTop < 0 || n.Length - excludeTop <= 5)
            throw new BadInputException($"--exclude-top {excludeTop}: must be ≥ 0 and leave ≥ 6 of the {n.Length} rows for the fit.");
        // Rows by compute, largest first: the first K are held out.
        int[] order = [.. Enumerable.Range(0, n.Length).OrderByDescending(i => n[i] * d[i])];
        int[] held = order[..excludeTop];
        int[] fitRows = order[excludeTop..];
        double[] Pick(double[] v, int[] rows) => [.. rows.Select(i => v[i])];
        var est = ScalingLawFit.WithBootstrap(Pick(n, fitRows), Pick(d, fitRows), Pick(loss, fitRows), replicates, new Rng(seed),
            progress: json ? null : new ConsoleProgress("scaling-fit"));
        var checks = held.Select(i =>
        {
            var (lo, hi) = est.PredictionInterval(n[i], d[i]);
            return (Row: lines[i], N: n[i], D: d[i], Loss: loss[i], Predicted: est.Fit.Loss(n[i], d[i]), Lower: lo, Upper: hi,
                Inside: loss[i] >= lo && loss[i] <= hi);
        }).ToList();
        string? report = outDir is null ? null : WriteReport(outDir, n, d, loss, held, est, file, seed);
        if (json)
        {
            var p = est.Fit.ToArray();
            Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
            {
                ["rows_fitted"] = fitRows.Length,
                ["parameters"] = Enumerable.Range(0, 5).ToDictionary(k => ScalingLaw.Names[k], k => new Dictionary<string, double>
                {
                    ["estimate"] = p[k], ["ci_lower"] = est.Lower[k], ["ci_upper"] = est.Upper[k], ["bootstrap_se"] = est.StdErr[k],
                }),
                ["n_opt_exponent"] = new Dictionary<string, double>
                {
                    ["estimate"] = est.Fit.ParameterExponent, ["ci_lower"] = est.ExponentLower, ["ci_upper"] = est.ExponentUpper,
                    ["bootstrap_se"] = est.ExponentStdErr,
                },
                ["held_out"] = checks.Select(c => new Dictionary<string, object>
                {
                    ["line"] = c.Row, ["n"] = c.N, ["d"] = c.D, ["loss"] = c.Loss, ["predicted"] = c.Predicted, ["ci_lower"] = c.Lower,
                    ["ci_upper"] = c.Upper, ["inside"] = c.Inside,
                }).ToList(),
                ["bootstrap"] = replicates,
                ["report"] = report,
            }, Lmech.Json));
            return Lmech.Ok;
        }
        var table = new Table().AddColumns("parameter", "estimate", "95 % interval (bootstrap)", "SE");
        var fit = est.Fit.ToArray();
        for (int k = 0; k < 5; k++)
            table.AddRow(ScalingLaw.Names[k], G(fit[k]), Markup.Escape($"[{G(est.Lower[k])}, {G(est.Upper[k])}]"), G(est.StdErr[k]));
        table.AddRow("β/(α+β)", G(est.Fit.ParameterExponent), Markup.Escape($"[{G(est.ExponentLower)}, {G(est.ExponentUpper)}]"),
            G(est.ExponentStdErr));
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine(Markup.Escape($"{fitRows.Length} runs fitted, {replicates} bootstrap refits. Compute-optimal: " +
            $"N_opt ∝ C^{G(est.Fit.ParameterExponent)}, D_opt ∝ C^{G(1 - est.Fit.ParameterExponent)} (C = 6ND)."));
        if (checks.Count > 0)
        {
            var held2 = new Table().AddColumns("line", "N", "D", "loss", "predicted", "95 % interval", "inside");
            foreach (var c in checks)
                held2.AddRow(c.Row.ToString(CultureInfo.InvariantCulture), G(c.N), G(c.D), G(c.Loss), G(c.Predicted),
                    Markup.Escape($"[{G(c.Lower)}, {G(c.Upper)}]"), c.Inside ? "yes" : "no");
            AnsiConsole.Write(held2);
        }
        if (report is not null) Console.WriteLine($"Report: {report}");
        return Lmech.Ok;
    }

    private static string G(double v) => v.ToString("G4", CultureInfo.InvariantCulture);

    /// <summary>DIR/fit.csv (the runs with the fit's prediction) and DIR/report.html (data and fit, iso-loss contours and the
    /// compute-optimal frontier).</summary>
    private static string WriteReport(string dir, double[] n, double[] d, double[] loss, int[] held, ScalingLawEstimate est,
        string file, ulong seed)
    {
        Directory.CreateDirectory(dir);
        var output = new ExperimentOutput();
        var rows = Enumerable.Range(0, n.Length).ToList();
        output.Tables["fit"] = SeriesTable.FromRows(rows, ("n", i => n[i]), ("d", i => d[i]), ("loss", i => loss[i]),
            ("predicted", i => est.Fit.Loss(n[i], d[i])), ("held_out", i => held.Contains(i) ? 1 : 0));
        output.Plots.AddRange(ScalingLawPlots.Of(est.Fit, n, d, loss, held));
        var config = new Dictionary<string, string>
            { ["file"] = file, ["bootstrap"] = est.Replicates.ToString(CultureInfo.InvariantCulture) };
        var run = new RunRecord($"scaling-fit-{DateTime.UtcNow:yyyyMMdd'T'HHmmss'Z'}", "scaling-fit", "Scaling-law fit",
            "L(N, D) = E + A/N^α + B/D^β", "Hoffmann et al. 2022 (approach 3)", RunRecord.LibraryVersion, seed, RunMode.Quick, config,
            output, DateTime.UtcNow, 0, dir);
        File.WriteAllText(Path.Combine(dir, "fit.csv"), CsvWriter.ToCsv(output.Tables["fit"]));
        File.WriteAllText(Path.Combine(dir, "report.html"), HtmlReport.Render(run, ["fit.csv"]));
        return Path.GetFullPath(Path.Combine(dir, "report.html"));
    }
}

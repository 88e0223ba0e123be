using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using LearningMechanics.Architecture;
using LearningMechanics.Data;
using LearningMechanics.Lab;
using LearningMechanics.Lab.Observables;
using LearningMechanics.Lab.Reports;
using LearningMechanics.Lab.Storage;
using LearningMechanics.Measurement.Observables;
using LearningMechanics.Numerics;
using LearningMechanics.Training;
using Spectre.Console;

namespace LearningMechanics.Cli;

/// <summary>
/// <c>lmech coord-check</c>: the coordinate check of Tensor Programs V (<see cref="CoordinateCheck"/>): the same architecture at
/// several widths, a few optimiser steps, and the RMS size and change of every dense layer's output per width. Flat
/// rows in width mean the parameterisation is width-stable (μP); growing ones mean it is not (SP at a fixed LR).
/// </summary>
internal static class CoordCheckCommand
{
    public static Command Build()
    {
        var arch = new Option<string>("--arch")
            { Description = "architecture with {n} for the width, e.g. dense({n})-relu-dense({n})-relu-dense(1)", Required = true };
        var widths = new Option<string>("--widths")
            { Description = "comma-separated widths", DefaultValueFactory = _ => "64,128,256,512,1024" };
        var param = new Option<string>("--param") { Description = "ntk, sp, mup or mf", DefaultValueFactory = _ => "mup" };
        var opt = new Option<string>("--opt") { Description = "sgd or adam (gd: full batch)", DefaultValueFactory = _ => "sgd" };
        var lr = new Option<double>("--lr") { Description = "learning rate", DefaultValueFactory = _ => 0.05 };
        var steps = new Option<int>("--steps") { Description = "optimiser steps", DefaultValueFactory = _ => 5 };
        var batch = new Option<int>("--batch") { Description = "mini-batch size (0 = full batch)", DefaultValueFactory = _ => 32 };
        var data = new Option<string>("--data")
        {
            Description = "teacher (16-d regression) or fashion-mnist (10 classes, cross-entropy)",
            DefaultValueFactory = _ => "teacher",
        };
        var seed = new Option<ulong>("--seed") { Description = "random seed", DefaultValueFactory = _ => 42 };
        var json = new Option<bool>("--json") { Description = "print one JSON object" };
        var baseWidth = new Option<double?>("--base-width") { Description = "μP's base width n₀ (μP equals SP at n₀)" };
        var outDir = new Option<string?>("--out") { Description = "also write DIR/report.html (plots) and DIR/coordinates.csv" };
        var cmd = new Command("coord-check", "Coordinate check: activation size per layer vs width after a few steps (μP should be flat).")
            { arch, widths, param, opt, lr, steps, batch, data, seed, baseWidth, outDir, json };
        cmd.SetAction(p =>
        {
            var ws = p.GetValue(widths)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(w => int.TryParse(w, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v >= 1 ? v
                    : throw new BadInputException($"--widths: '{w}' is not a positive integer.")).ToArray();
            int nSteps = p.GetValue(steps);
            if (nSteps < 1) throw new BadInputException($"--steps {nSteps} must be ≥ 1.");
            var rng = new Rng(p.GetValue(seed)).Split(99);
            Dataset set;
            Loss loss;
            switch (p.GetValue(data)!.Trim().ToLowerInvariant())
            {
                case "teacher":
                    set = Teacher.Label(Synthetic.Sphere(256, 16, rng.Split(1)), "dense(64)-tanh-dense(1)", rng.Split(2));
                    loss = new MseLoss();
                    break;
                case "fashion-mnist":
                    set = FashionMnist.Load("train", 256, rng.Split(1));
                    loss = new CrossEntropyLoss();
                    break;
                default: throw new BadInputException($"--data '{p.GetValue(data)}' is not allowed. Allowed: teacher, fashion-mnist.");
            }
            var rows = CoordinateCheck.Run(p.GetValue(arch)!, ws, ParameterizationNames.Parse(p.GetValue(param)!), set,
                new OptimizerSettings(OptimizerSettings.ParseKind(p.GetValue(opt)!), p.GetValue(lr)).Validated(), nSteps, p.GetValue(batch),
                p.GetValue(seed), loss, baseWidth: p.GetValue(baseWidth));
            var last = rows.Where(r => r.Step == nSteps).ToList();
            string? report = p.GetValue(outDir) is not { } dir ? null : WriteReport(dir, rows, nSteps, p.GetValue(seed), new()
            {
                ["arch"] = p.GetValue(arch)!, ["param"] = p.GetValue(param)!, ["opt"] = p.GetValue(opt)!,
                ["lr"] = p.GetValue(lr).ToString("R", CultureInfo.InvariantCulture),
                ["steps"] = nSteps.ToString(CultureInfo.InvariantCulture), ["widths"] = string.Join(",", ws),
                ["base_width"] = p.GetValue(baseWidth)?.ToString("R", CultureInfo.InvariantCulture) ?? "",
                ["data"] = p.GetValue(data)!,
            });
            if (p.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
                {
                    ["arch"] = p.GetValue(arch)!, ["param"] = p.GetValue(param)!, ["steps"] = nSteps, ["report"] = report,
                    ["rows"] = rows.Select(r => new Dictionary<string, double>
                    {
                        ["width"] = r.Width, ["step"] = r.Step, ["layer"] = r.Layer, ["rms"] = r.Rms, ["change_rms"] = r.ChangeRms,
                    }).ToList(),
                }, Lmech.Json));
                return Lmech.Ok;
            }
            var table = new Spectre.Console.Table
            {
                Title = new TableTitle(Markup.Escape($"RMS of Δz (output of each dense layer) after {nSteps} steps, {p.GetValue(param)}")),
            };
            table.AddColumn("width");
            int layers = last.Max(r => r.Layer) + 1;
            for (int l = 0; l < layers; l++) table.AddColumn($"layer {l}");
            foreach (int w in ws)
                table.AddRow([w.ToString(CultureInfo.InvariantCulture), .. Enumerable.Range(0, layers).Select(l =>
                    last.FirstOrDefault(r => r.Width == w && r.Layer == l) is { } r
                        ? r.ChangeRms.ToString("G3", CultureInfo.InvariantCulture)
                        : "diverged")]);
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine("Flat columns: width-stable updates (μP). " +
                "Columns growing with width: the parameterisation is not (e.g. SP at a fixed learning rate).");
            if (report is not null) Console.WriteLine($"Report: {report}");
            return Lmech.Ok;
        });
        return cmd;
    }

    /// <summary>DIR/coordinates.csv and DIR/report.html: the coordinate-check figure after step 1 and after the last step.</summary>
    private static string WriteReport(string dir, List<CoordinateCheck.Row> rows, int steps, ulong seed, Dictionary<string, string> config)
    {
        Directory.CreateDirectory(dir);
        var output = new ExperimentOutput();
        output.Tables["coordinates"] = SeriesTable.FromRows(rows, ("width", r => r.Width), ("step", r => r.Step),
            ("layer", r => r.Layer), ("rms", r => r.Rms), ("change_rms", r => r.ChangeRms));
        foreach (int step in new[] { 1, steps }.Distinct())
            output.Plots.Add(CoordinateCheckPlot.At(rows, step, $"RMS of Δh after {step} step{(step == 1 ? "" : "s")}",
                "Flat lines: width-stable updates (μP). Rising lines: the parameterisation is not (e.g. SP at a fixed learning rate)."));
        var run = new RunRecord($"coord-check-{DateTime.UtcNow:yyyyMMdd'T'HHmmss'Z'}", "coord-check", "Coordinate check",
            "RMS(h_t − h_0) per dense layer against width", "Yang et al. 2022 (Tensor Programs V), §D.1", RunRecord.LibraryVersion,
            seed, RunMode.Quick, config, output, DateTime.UtcNow, 0, dir);
        File.WriteAllText(Path.Combine(dir, "coordinates.csv"), CsvWriter.ToCsv(output.Tables["coordinates"]));
        File.WriteAllText(Path.Combine(dir, "report.html"), HtmlReport.Render(run, ["coordinates.csv"]));
        return Path.GetFullPath(Path.Combine(dir, "report.html"));
    }
}

using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using LearningMechanics.Architecture;
using LearningMechanics.Data;
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
        var cmd = new Command("coord-check", "Coordinate check: activation size per layer vs width after a few steps (μP should be flat).")
            { arch, widths, param, opt, lr, steps, batch, data, seed, baseWidth, json };
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
            if (p.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
                {
                    ["arch"] = p.GetValue(arch)!, ["param"] = p.GetValue(param)!, ["steps"] = nSteps,
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
            return Lmech.Ok;
        });
        return cmd;
    }
}

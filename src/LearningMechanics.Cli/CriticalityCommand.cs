using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using LearningMechanics.Architecture;
using LearningMechanics.Lab;
using LearningMechanics.Lab.Reports;
using LearningMechanics.Theory;
using Spectre.Console;
using Table = Spectre.Console.Table;

namespace LearningMechanics.Cli;

/// <summary>
/// <c>lmech criticality --act NAME</c>: universality class, critical initialisation, exponents, critical line, phase diagram.
/// </summary>
internal static class CriticalityCommand
{
    public static Command Build()
    {
        var act = new Option<string>("--act") { Description = "activation, e.g. tanh, relu, gelu, leaky_relu(0.1)", Required = true };
        var sb2Max = new Option<double>("--sb2-max")
            { Description = "largest σ_b² of the critical line", DefaultValueFactory = _ => 1.0 };
        var points = new Option<int>("--points") { Description = "points on the critical line", DefaultValueFactory = _ => 11 };
        var sw2 = new Option<double?>("--sw2") { Description = "also analyse this σ_w² (with --sb2): phase, K*, χ∥, χ⊥, depth " +
            "scales" };
        var sb2 = new Option<double>("--sb2") { Description = "σ_b² for --sw2", DefaultValueFactory = _ => 0.0 };
        var plot = new Option<string?>("--plot") { Description = "write the phase diagram to this .svg file" };
        var json = new Option<bool>("--json") { Description = "print one JSON object" };
        var cmd = new Command("criticality",
            "Criticality of an activation: fixed points, χ∥, χ⊥, critical line, depth scales, universality class.")
            { act, sb2Max, points, sw2, sb2, plot, json };
        cmd.SetAction(p => Run(p.GetValue(act)!, p.GetValue(sb2Max), p.GetValue(points), p.GetValue(sw2), p.GetValue(sb2), p.GetValue(plot),
            p.GetValue(json)));
        return cmd;
    }

    private static double? J(double? v) => v is { } x && double.IsFinite(x) ? x : null;
    private static string F(double? v) =>
        v is { } x ? (double.IsPositiveInfinity(x) ? "∞" : x.ToString("G6", CultureInfo.InvariantCulture)) : "—";

    private static int Run(string actName, double sb2Max, int points, double? sw2, double sb2, string? plotPath, bool json)
    {
        var act = Activation.Parse(actName);
        if (!(sb2Max >= 0) || !double.IsFinite(sb2Max)) throw new BadInputException($"--sb2-max {sb2Max} must be a finite number ≥ 0.");
        if (points is < 2 or > 200) throw new BadInputException($"--points {points} must be in 2…200.");
        if (sw2 is { } w && (!(w > 0) || !double.IsFinite(w))) throw new BadInputException($"--sw2 {w} must be a positive number.");
        if (!(sb2 >= 0) || !double.IsFinite(sb2)) throw new BadInputException($"--sb2 {sb2} must be a number ≥ 0.");
        if (plotPath is not null && !plotPath.EndsWith(".svg", StringComparison.OrdinalIgnoreCase))
            throw new BadInputException($"--plot '{plotPath}' must end in .svg.");
        if (plotPath is not null) Runner.EnsureWritable(Path.GetDirectoryName(Path.GetFullPath(plotPath))!, "--plot FILE");

        var report = Criticality.Classify(act);
        var line = Enumerable.Range(0, points).Select(i => sb2Max * i / (points - 1)).Select(b =>
        {
            var w = Criticality.CriticalWeightVariance(act, b);
            var pt = w is { } x ? Criticality.Analyse(new(act, x, b)) : null;
            return (Sb2: b, Sw2: w, Point: pt);
        }).ToList();
        var analysed = sw2 is { } s ? Criticality.Analyse(new(act, s, sb2)) : null;

        if (plotPath is not null)
            File.WriteAllText(plotPath, PlotRenderer.ToSvg(PhaseDiagram(act,
                line.Where(l => l.Sw2 is not null).Select(l => (l.Sb2, l.Sw2!.Value)).ToList(), sb2Max)));

        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize<object>(new Dictionary<string, object?>
            {
                ["activation"] = act.Name, ["class"] = report.Class.ToString(), ["critical_sb2"] = J(report.CriticalSb2),
                ["critical_sw2"] = J(report.CriticalSw2),
                ["a1"] = J(report.TaylorA1), ["a2"] = J(report.TaylorA2), ["b1"] = J(report.TaylorB1), ["exponents"] = report.Exponents,
                ["note"] = report.Note,
                ["critical_line"] = line.Select(l => new Dictionary<string, double?>
                {
                    ["sb2"] = l.Sb2, ["sw2"] = J(l.Sw2), ["k_star"] = J(l.Point?.KStar), ["chi_parallel"] = J(l.Point?.ChiParallel),
                    ["depth_parallel"] = J(l.Point?.DepthParallel),
                }),
                ["point"] = analysed is null ? null : PointJson(analysed),
                ["plot"] = plotPath is null ? null : Path.GetFullPath(plotPath),
            }, Lmech.Json));
            return Lmech.Ok;
        }
        var head = new Table { Title = new TableTitle($"criticality of {Markup.Escape(act.Name)}") }.AddColumns("quantity", "value");
        head.AddRow("universality class", report.Class.ToString());
        head.AddRow("critical (σ_b², σ_w²)",
            report.CriticalSw2 is null ? "none at σ_b² = 0" : $"({F(report.CriticalSb2)}, {F(report.CriticalSw2)})");
        if (report.TaylorA1 is not null)
            head.AddRow("a₁, a₂, b₁ (Roberts & Yaida 2022, eqs. 5.86–5.88)",
                $"{F(report.TaylorA1)}, {F(report.TaylorA2)}, {F(report.TaylorB1)}");
        foreach (var (k, v) in report.Exponents) head.AddRow($"exponent {k}", F(v));
        head.AddRow("note", Markup.Escape(report.Note));
        AnsiConsole.Write(head);
        var lt = new Table { Title = new TableTitle("critical line χ⊥(K*) = " +
            "1") }.AddColumns("σ_b²", "σ_w²", "K*", "χ∥(K*)", "ξ∥");
        foreach (var l in line) lt.AddRow(F(l.Sb2), F(l.Sw2), F(l.Point?.KStar), F(l.Point?.ChiParallel), F(l.Point?.DepthParallel));
        AnsiConsole.Write(lt);
        if (analysed is not null)
        {
            var pt = new Table { Title = new TableTitle($"at σ_b² = {F(sb2)}, σ_w² = {F(sw2)}") }.AddColumns("quantity", "value");
            foreach (var (k, v) in PointJson(analysed)) pt.AddRow(k, v is double d ? F(d) : Markup.Escape(v?.ToString() ?? "—"));
            AnsiConsole.Write(pt);
        }
        if (plotPath is not null) AnsiConsole.MarkupLine($"Phase diagram: [link]{Markup.Escape(Path.GetFullPath(plotPath))}[/]");
        return Lmech.Ok;
    }

    private static Dictionary<string, object?> PointJson(CriticalityPoint p) => new()
    {
        ["phase"] = p.Phase, ["k_star"] = J(p.KStar), ["chi_parallel"] = J(p.ChiParallel), ["chi_perp"] = J(p.ChiPerp),
        ["c_star"] = J(p.CStar), ["chi_c"] = J(p.ChiC), ["depth_parallel"] = J(p.DepthParallel),
        ["depth_correlation"] = J(p.DepthCorrelation),
    };

    /// <summary>Critical line over a grid of (σ_b², σ_w²) points marked ordered or chaotic.</summary>
    internal static PlotSpec PhaseDiagram(Activation act, List<(double Sb2, double Sw2)> line, double sb2Max)
    {
        double wMax = Math.Max(3, 1.5 * (line.Count > 0 ? line.Max(l => l.Sw2) : 2));
        var ordered = new List<(double, double)>();
        var chaotic = new List<(double, double)>();
        for (int i = 0; i < 16; i++)
            for (int j = 0; j < 16; j++)
            {
                double b = sb2Max * i / 15;
                double w = 0.1 + (wMax - 0.1) * j / 15;
                var p = Criticality.Analyse(new(act, w, b));
                if (p.KStar is null || p.ChiPerp > 1) chaotic.Add((b, w)); else ordered.Add((b, w));
            }
        return new PlotSpec($"{act.Name}: phase diagram", "σ_b²", "σ_w²",
        [
            new SeriesSpec("ordered χ⊥ < 1", ordered.Select(p => p.Item1).ToArray(), ordered.Select(p => p.Item2).ToArray(),
                SeriesKind.Points),
            new SeriesSpec("chaotic χ⊥ > 1 (or " +
                "divergent)", chaotic.Select(p => p.Item1).ToArray(), chaotic.Select(p => p.Item2).ToArray(),
                SeriesKind.Points),
            new SeriesSpec("critical line", line.Select(l => l.Sb2).ToArray(), line.Select(l => l.Sw2).ToArray(), SeriesKind.Line),
        ], Caption: "Grid points classified by χ⊥(K*) at the fixed point K* reached from K = 1; the line is χ⊥(K*) = 1.");
    }
}

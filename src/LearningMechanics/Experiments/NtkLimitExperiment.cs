using System.Globalization;
using LearningMechanics.Architecture;
using LearningMechanics.Data;
using LearningMechanics.Lab;
using LearningMechanics.Measurement.Ensembles;
using LearningMechanics.Numerics;
using LearningMechanics.Theory;
using LearningMechanics.Theory.Kernels;

namespace LearningMechanics.Experiments;

/// <summary>
/// <c>ntk-limit</c> (Jacot et al. 2018; Roberts &amp; Yaida 2022, ch. 8): the empirical NTK of random finite MLPs
/// (per-layer contractions, checked against the Jacobian in the tests) converges to the infinite-width Θ as the width
/// grows. Claims per activation: the ensemble mean's deviation from Θ vanishes as n → ∞ (fit a + b/n + c/n², a = 0);
/// the relative variance across initialisations falls as 1/n (log–log slope −1).
/// </summary>
public sealed class NtkLimitExperiment : IExperiment
{
    public string Id => "ntk-limit";
    public string Title => "The empirical NTK converges to the infinite-width NTK";
    public string Summary => "empirical NTK at initialisation → Θ∞ as width grows: mean deviation O(1/n), variance ∝ 1/n";
    public string Source => "Jacot et al. 2018; Roberts & Yaida 2022, ch. 8";

    public IReadOnlyList<SettingInfo> Settings { get; } =
    [
        new("widths", "hidden widths n", "64,128,256,512,1024,2048", "64,128,256,512,1024,2048,4096"),
        new("depth", "hidden layers L", "3", "3"),
        new("nets", "networks per width", "400", "2000"),
        new("acts", "activations (critical initialisation)", "relu,tanh", "relu,tanh,erf"),
        new("sb2", "σ_b² (added to the critical σ_w² at σ_b² = 0)", "0", "0"),
    ];

    private static readonly ClaimDeclaration MeanConverges = new("ntk-mean-{act}",
        "{act}, depth {depth}: mean empirical NTK → Θ∞; (E[Θ̂] − Θ)/√(ΘΘ) = a + b/n + c/n² with a = 0 (worst input pair " +
            "shown)",
        "Jacot et al. 2018 (NTK recursion); Roberts & Yaida 2022, ch. 8", ClaimRule.TwoSided,
        "4·SE of the fitted intercept a; the input pair furthest from 0 in SE is shown, among the pairs that rule out the competitor")
    {
        Competitor = "the mean tangent kernel is the network's NNGP kernel K (the readout layer's contribution alone): a = (K − " +
            "Θ)/√(ΘΘ)",
    };

    private static readonly ClaimDeclaration VarianceSlope = new("ntk-variance-{act}",
        "{act}, depth {depth}: relative variance of Θ̂(x0, x0) across initialisations ∝ 1/n (log–log slope −1)",
        "Jacot et al. 2018 (deterministic limit); Roberts & Yaida 2022, ch. 8 (Var ∝ L/n)", ClaimRule.TwoSided,
        "4·SE of the slope + L/n_min, the relative size of the next order in L/n at the smallest width")
    {
        Competitor = "relative variance ∝ 1/√n (slope −1/2)",
    };

    public IReadOnlyList<ClaimDeclaration> Claims { get; } = [MeanConverges, VarianceSlope];

    public void Validate(Settings settings) => Setup.From(settings);

    /// <summary>Per activation, width and network: drawing the weights and the empirical NTK on the 4 probe inputs (d = 16);
    /// the 10 kernel entries of every network of one width are kept, and each thread holds a network, its gradient and
    /// workspace.</summary>
    public ResourceEstimate? Estimate(Settings settings)
    {
        var p = Setup.From(settings);
        double flops = (double)p.Nets * p.Acts.Length * p.Widths.Sum(n =>
        {
            double w = WorkEstimate.MlpWeights(16, n, p.Depth);
            return WorkEstimate.Draw(w) + WorkEstimate.EmpiricalNtk(w, 4);
        });
        double widest = p.Widths[^1];
        double bytes = WorkEstimate.Float64 * Pairs.Length * p.Nets
            + WorkEstimate.Threads * (2 * WorkEstimate.Float64 * WorkEstimate.MlpWeights(16, widest, p.Depth)
                + WorkEstimate.Activations(widest * p.Depth, 4));
        return new ResourceEstimate(flops, bytes);
    }

    /// <summary>Random stream of the probe inputs; the ensembles use streams 0, 1, … (activation × width).</summary>
    private const ulong InputStream = ulong.MaxValue;

    private static readonly (int I, int J)[] Pairs =
        [.. from i in Enumerable.Range(0, 4) from j in Enumerable.Range(i, 4 - i) select (i, j)];

    private sealed record Setup(int[] Widths, int Depth, int Nets, double Sb2, Activation[] Acts)
    {
        public static Setup From(Settings s)
        {
            int[] widths = s.GetIntList("widths", 2).Distinct().Order().ToArray();
            int depth = s.GetInt("depth", 1);
            int nets = s.GetInt("nets", 20);
            double sb2 = s.GetDouble("sb2", 0);
            return new Setup(widths, depth, nets, sb2, s.GetList("acts").Select(Activation.Parse).ToArray());
        }
    }

    private sealed record Row(string Act, int Width, int I, int J, double Theta, double Mean, double Se, double RelVar, double RelVarSe);

    public ExperimentOutput Run(RunContext ctx)
    {
        var p = Setup.From(ctx.Settings);
        var output = new ExperimentOutput();
        var root = new Rng(ctx.Seed);
        var x = Inputs.ProbeSet(16, root.Split(InputStream));
        output.Facts["inputs"] = "x0 random on the sphere |x|² = d = 16; x1 at cosine 0.95; x2 orthogonal to x0; x3 = −x0";
        var rows = new List<Row>();
        long done = 0;
        long total = (long)p.Acts.Length * p.Widths.Length * p.Nets;
        for (int a = 0; a < p.Acts.Length; a++)
        {
            var act = p.Acts[a];
            double sw2 = Criticality.CriticalWeightVariance(act);
            output.Facts[$"sigma_w2.{act.Name}"] = sw2.ToString("R", CultureInfo.InvariantCulture);
            var (nngp, thetaInf) = Predict(p, act, sw2, x);
            for (int wi = 0; wi < p.Widths.Length; wi++)
                rows.AddRange(Measure(ctx, p, new MlpSpec(16, p.Widths[wi], p.Depth, act, sw2, p.Sb2), x, thetaInf, root,
                    (ulong)(a * p.Widths.Length + wi), ref done, total));
            Judge(output, p, act.Name, thetaInf, nngp, rows);
        }
        Report(output, p, rows);
        return output;
    }

    /// <summary>The infinite-width NTK Θ∞ of the probe inputs.</summary>
    private static (Matrix Nngp, Matrix Ntk) Predict(Setup p, Activation act, double sw2, Matrix x)
    {
        var kernels = NeuralKernels.Compute(new MlpSpec(16, 1, p.Depth, act, sw2, p.Sb2).ToNetworkSpec(), x);
        return (kernels.Nngp, kernels.Ntk!);
    }

    /// <summary>Mean and relative variance of every entry of the empirical NTK over an ensemble of one width.</summary>
    private static List<Row> Measure(RunContext ctx, Setup p, MlpSpec spec, Matrix x, Matrix thetaInf, Rng root, ulong stream,
        ref long done, long total)
    {
        int nets = p.Nets;
        var samples = Pairs.Select(_ => new double[nets]).ToArray();
        NtkEnsemble.Run(spec.ToNetworkSpec(), x, nets, root, stream, $"{spec.Activation.Name} width {spec.Width}", ref done, total,
            (i, _, theta) =>
            {
                for (int q = 0; q < Pairs.Length; q++) samples[q][i] = theta[Pairs[q].I, Pairs[q].J];
            }, ctx.Progress, ctx.Cancellation);
        var rows = new List<Row>();
        for (int q = 0; q < Pairs.Length; q++)
        {
            var (i, j) = Pairs[q];
            double t = thetaInf[i, j];
            double norm = Math.Sqrt(thetaInf[i, i] * thetaInf[j, j]);
            double mean = Statistics.Mean(samples[q]);
            double var = Statistics.Variance(samples[q]);
            // SE of the sample variance from the fourth central moment: Var(s²) ≈ (m₄ − s⁴)/M.
            double m4 = samples[q].Select(v => Math.Pow(v - mean, 4)).Average();
            rows.Add(new Row(spec.Activation.Name, spec.Width, i, j, t, mean, Statistics.StandardError(samples[q]),
                var / (norm * norm), Math.Sqrt(Math.Max(m4 - var * var, 0) / nets) / (norm * norm)));
        }
        return rows;
    }

    private static void Judge(ExperimentOutput output, Setup p, string act, Matrix thetaInf, Matrix nngp, List<Row> rows)
    {
        output.Claims.Add(ScalingFits.Decisive(Pairs.Select(pair =>
        {
            var (i, j) = pair;
            var pr = rows.Where(r => r.Act == act && r.I == i && r.J == j).ToList();
            double norm = Math.Sqrt(thetaInf[i, i] * thetaInf[j, j]);
            return ScalingFits.Intercept(MeanConverges.With(("act", act), ("depth", p.Depth)), pr.Select(r => (double)r.Width).ToArray(),
                pr.Select(r => (r.Mean - r.Theta) / norm).ToArray(), pr.Select(r => r.Se / norm).ToArray(), $"pair (x{i}, x{j})",
                competitor: (nngp[i, j] - thetaInf[i, j]) / norm);
        }).ToList()));
        var diag = rows.Where(r => r.Act == act && r.I == 0 && r.J == 0).ToList();
        output.Claims.Add(ScalingFits.Slope(VarianceSlope.With(("act", act), ("depth", p.Depth)),
            diag.Select(r => (double)r.Width).ToArray(), diag.Select(r => r.RelVar).ToArray(), diag.Select(r => r.RelVarSe).ToArray(), -1,
            (double)p.Depth / p.Widths.Min(),
            "L/n_min, the relative size of the next order in L/n at the smallest width", competitor: -0.5));
    }

    private static void Report(ExperimentOutput output, Setup p, List<Row> rows)
    {
        output.Tables["ntk"] = SeriesTable.FromRows(rows, ("activation", r => r.Act), ("width", r => r.Width), ("input_i", r => r.I),
            ("input_j", r => r.J), ("ntk_infinite", r => r.Theta), ("ntk_mean", r => r.Mean), ("stderr", r => r.Se),
            ("relative_variance", r => r.RelVar), ("relative_variance_stderr", r => r.RelVarSe));
        var wx = p.Widths.Select(w => (double)w).ToArray();
        var meanSeries = new List<SeriesSpec>();
        var varSeries = new List<SeriesSpec>();
        foreach (var act in p.Acts.Select(a => a.Name))
        {
            double Norm(Row r) => Math.Sqrt(Diag(rows, act, r.I) * Diag(rows, act, r.J));
            var byWidth = p.Widths.Select(w => rows.Where(r => r.Act == act && r.Width == w).ToList()).ToList();
            meanSeries.Add(new SeriesSpec($"{act} deviation", wx,
                byWidth.Select(g => g.Max(r => Math.Abs(r.Mean - r.Theta) / Norm(r))).ToArray(), SeriesKind.Points));
            meanSeries.Add(new SeriesSpec($"{act} SE", wx, byWidth.Select(g => g.Max(r => r.Se / Norm(r))).ToArray(), SeriesKind.Line,
                Dashed: true));
            var d = byWidth.Select(g => g.Single(r => r.I == 0 && r.J == 0)).ToList();
            varSeries.Add(new SeriesSpec($"{act} measured", wx, d.Select(r => r.RelVar).ToArray(), SeriesKind.Points,
                d.Select(r => r.RelVarSe).ToArray()));
            varSeries.Add(new SeriesSpec($"{act} ∝ 1/n", wx, wx.Select(n => d[0].RelVar * wx[0] / n).ToArray(), SeriesKind.Line,
                Dashed: true));
        }
        output.Plots.Add(new PlotSpec($"Mean empirical NTK vs Θ∞ (depth {p.Depth})", "width n", "max |E[Θ̂] − Θ| / " +
            "√(ΘΘ)", meanSeries,
            LogX: true, LogY: true, Caption: "Largest deviation over the 10 input pairs; dashed: the largest standard error."));
        output.Plots.Add(new PlotSpec($"NTK fluctuations across initialisations (depth {p.Depth})", "width n", "Var[Θ̂(x0,x0)] / Θ²",
            varSeries, LogX: true, LogY: true, Caption: "Points: relative variance ± SE; dashed: a 1/n law through the smallest width."));
    }

    private static double Diag(List<Row> rows, string act, int i) => rows.First(r => r.Act == act && r.I == i && r.J == i).Theta;
}

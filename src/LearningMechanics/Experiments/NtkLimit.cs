using LearningMechanics.Architecture;
using LearningMechanics.Data;
using LearningMechanics.Lab;
using LearningMechanics.Measurement.Ensembles;
using LearningMechanics.Numerics;
using LearningMechanics.Theory;
using LearningMechanics.Theory.Kernels;

namespace LearningMechanics.Experiments;

/// <summary>
/// <c>ntk-limit</c> (claims.md A5, A6; seed 002 §3.2–3.4; seed 004 ch. 8): the empirical NTK of random finite MLPs
/// (per-layer contractions, checked against the Jacobian in the tests) converges to the infinite-width Θ as the width
/// grows. Claims per activation: the ensemble mean's deviation from Θ vanishes as n → ∞ (fit a + b/n + c/n², a = 0);
/// the relative variance across initialisations falls as 1/n (log–log slope −1).
/// </summary>
public sealed class NtkLimit : IExperiment
{
    public string Id => "ntk-limit";
    public string Title => "The empirical NTK converges to the infinite-width NTK";
    public string Summary => "empirical NTK at initialisation → Θ∞ as width grows: mean deviation O(1/n), variance ∝ 1/n";
    public string Source => "seed 002 §3.2–3.4; seed 004 ch. 8; claims.md A5, A6";

    public IReadOnlyList<SettingInfo> Settings { get; } =
    [
        new("widths", "hidden widths n", "64,128,256,512,1024,2048", "64,128,256,512,1024,2048,4096"),
        new("depth", "hidden layers L", "3", "3"),
        new("nets", "networks per width", "400", "2000"),
        new("acts", "activations (critical initialisation)", "relu,tanh", "relu,tanh,erf"),
        new("sb2", "σ_b² (added to the critical σ_w² at σ_b² = 0)", "0", "0"),
    ];

    private static readonly (int I, int J)[] Pairs =
        [.. from i in Enumerable.Range(0, 4) from j in Enumerable.Range(i, 4 - i) select (i, j)];

    public ExperimentOutput Run(RunContext ctx)
    {
        var s = ctx.Settings;
        int[] widths = s.GetIntList("widths", 2).Distinct().Order().ToArray();
        int depth = s.GetInt("depth", 1), nets = s.GetInt("nets", 20);
        double sb2 = s.GetDouble("sb2", 0);
        var acts = s.GetList("acts").Select(Activation.Parse).ToArray();
        var output = new ExperimentOutput();
        var root = new Rng(ctx.Seed);
        var x = Inputs.ProbeSet(16, root.Split(ulong.MaxValue));
        output.Facts["inputs"] = "x0 random on the sphere |x|² = d = 16; x1 at cosine 0.95; x2 orthogonal to x0; x3 = −x0";
        long done = 0, total = (long)acts.Length * widths.Length * nets;
        var rows = new List<(string Act, int Width, int I, int J, double Theta, double Mean, double Se, double RelVar, double RelVarSe)>();
        for (int a = 0; a < acts.Length; a++)
        {
            var act = acts[a];
            double sw2 = Criticality.CriticalWeightVariance(act);
            output.Facts[$"sigma_w2.{act.Name}"] = sw2.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
            var (_, thetaInf) = NeuralKernels.Compute(new MlpSpec(16, 1, depth, act, sw2, sb2).ToNetworkSpec(), x);
            for (int wi = 0; wi < widths.Length; wi++)
            {
                var spec = new MlpSpec(16, widths[wi], depth, act, sw2, sb2);
                var samples = Pairs.Select(_ => new double[nets]).ToArray();
                int aw = a * widths.Length + wi;
                NtkEnsemble.Run(spec.ToNetworkSpec(), x, nets, root, (ulong)aw, $"{act.Name} width {spec.Width}", ref done, total, (i, _, theta) =>
                {
                    for (int p = 0; p < Pairs.Length; p++) samples[p][i] = theta[Pairs[p].I, Pairs[p].J];
                }, ctx.Progress, ctx.Cancellation);
                for (int p = 0; p < Pairs.Length; p++)
                {
                    var (i, j) = Pairs[p];
                    double t = thetaInf![i, j], norm = Math.Sqrt(thetaInf[i, i] * thetaInf[j, j]);
                    double mean = Statistics.Mean(samples[p]), var = Statistics.Variance(samples[p]);
                    // SE of the sample variance from the fourth central moment: Var(s²) ≈ (m₄ − s⁴)/M.
                    double m4 = samples[p].Select(v => Math.Pow(v - mean, 4)).Average();
                    rows.Add((act.Name, spec.Width, i, j, t, mean, Statistics.StandardError(samples[p]),
                        var / (norm * norm), Math.Sqrt(Math.Max(m4 - var * var, 0) / nets) / (norm * norm)));
                }
            }

            // Claims for this activation.
            output.Claims.Add(ScalingFits.Worst(Pairs.Select(pair =>
            {
                var (i, j) = pair;
                var pr = rows.Where(r => r.Act == act.Name && r.I == i && r.J == j).ToList();
                double norm = Math.Sqrt(thetaInf![i, i] * thetaInf[j, j]);
                return ScalingFits.Intercept($"ntk-mean-{act.Name}",
                    $"{act.Name}, depth {depth}: mean empirical NTK → Θ∞; (E[Θ̂] − Θ)/√(ΘΘ) = a + b/n + c/n² with a = 0 (worst input pair shown)",
                    "seed 002 §3.2–3.4 (NTK recursion); seed 004 ch. 8; claims.md A5", pr.Select(r => (double)r.Width).ToArray(),
                    pr.Select(r => (r.Mean - r.Theta) / norm).ToArray(), pr.Select(r => r.Se / norm).ToArray(), $"pair (x{i}, x{j})");
            })));
            var diag = rows.Where(r => r.Act == act.Name && r.I == 0 && r.J == 0).ToList();
            output.Claims.Add(ScalingFits.Slope($"ntk-variance-{act.Name}",
                $"{act.Name}, depth {depth}: relative variance of Θ̂(x0, x0) across initialisations ∝ 1/n (log–log slope −1)",
                "seed 002 §3.2 (deterministic limit); seed 004 ch. 8 (Var ∝ L/n); claims.md A6", diag.Select(r => (double)r.Width).ToArray(),
                diag.Select(r => r.RelVar).ToArray(), diag.Select(r => r.RelVarSe).ToArray(), -1, (double)depth / widths.Min(),
                "L/n_min, the relative size of the next order in L/n at the smallest width"));
        }

        output.Tables["ntk"] = SeriesTable.FromRows(rows, ("activation", r => r.Act), ("width", r => r.Width), ("input_i", r => r.I), ("input_j", r => r.J),
            ("ntk_infinite", r => r.Theta), ("ntk_mean", r => r.Mean), ("stderr", r => r.Se), ("relative_variance", r => r.RelVar),
            ("relative_variance_stderr", r => r.RelVarSe));
        var wx = widths.Select(w => (double)w).ToArray();
        var meanSeries = new List<SeriesSpec>(); var varSeries = new List<SeriesSpec>();
        foreach (var act in acts.Select(a => a.Name))
        {
            var byWidth = widths.Select(w => rows.Where(r => r.Act == act && r.Width == w).ToList()).ToList();
            meanSeries.Add(new SeriesSpec($"{act} deviation", wx, byWidth.Select(g => g.Max(r => Math.Abs(r.Mean - r.Theta) / Math.Sqrt(Diag(rows, act, r.I) * Diag(rows, act, r.J)))).ToArray(), SeriesKind.Points));
            meanSeries.Add(new SeriesSpec($"{act} SE", wx, byWidth.Select(g => g.Max(r => r.Se / Math.Sqrt(Diag(rows, act, r.I) * Diag(rows, act, r.J)))).ToArray(), SeriesKind.Line, Dashed: true));
            var d = byWidth.Select(g => g.Single(r => r.I == 0 && r.J == 0)).ToList();
            varSeries.Add(new SeriesSpec($"{act} measured", wx, d.Select(r => r.RelVar).ToArray(), SeriesKind.Points, d.Select(r => r.RelVarSe).ToArray()));
            varSeries.Add(new SeriesSpec($"{act} ∝ 1/n", wx, wx.Select(n => d[0].RelVar * wx[0] / n).ToArray(), SeriesKind.Line, Dashed: true));
        }
        output.Plots.Add(new PlotSpec($"Mean empirical NTK vs Θ∞ (depth {depth})", "width n", "max |E[Θ̂] − Θ| / √(ΘΘ)", meanSeries, LogX: true, LogY: true,
            Caption: "Largest deviation over the 10 input pairs; dashed: the largest standard error."));
        output.Plots.Add(new PlotSpec($"NTK fluctuations across initialisations (depth {depth})", "width n", "Var[Θ̂(x0,x0)] / Θ²", varSeries, LogX: true, LogY: true,
            Caption: "Points: relative variance ± SE; dashed: a 1/n law through the smallest width."));
        return output;
    }

    private static double Diag(List<(string Act, int Width, int I, int J, double Theta, double Mean, double Se, double RelVar, double RelVarSe)> rows, string act, int i) =>
        rows.First(r => r.Act == act && r.I == i && r.J == i).Theta;
}

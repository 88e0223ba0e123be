using System.Globalization;
using LearningMechanics.Architecture;
using LearningMechanics.Data;
using LearningMechanics.Lab;
using LearningMechanics.Measurement.Ensembles;
using LearningMechanics.Numerics;
using LearningMechanics.Theory;
using LearningMechanics.Theory.FiniteWidth;

namespace LearningMechanics.Experiments;

/// <summary>
/// <c>finite-width-vertex</c> (seed 004 §5.4, eqs. 5.109, 5.130–5.131): the output's excess kurtosis κ = 3V/(nK²) of
/// random MLPs at every depth ℓ and width n against the four-point vertex recursion, for ReLU and tanh at criticality
/// (where V/K² grows linearly in ℓ with slope 3A₄/A₂² − 1 = 5 and → 2/3) and off criticality (σ_b² = 0.2, σ_w² = 1.5,
/// where the ℓ/n law breaks). Measurement: real networks through their conditional kernels
/// (<see cref="ConditionalKernelEnsemble"/>), every depth from one network.
/// </summary>
public sealed class FiniteWidthVertex : IExperiment
{
    public string Id => "finite-width-vertex";
    public string Title => "The four-point vertex: 1/n corrections grow with depth";
    public string Summary => "output kurtosis = 3V/(nK²) with V from the vertex recursion; at criticality V/(nK²) ≈ 5ℓ/n (ReLU), (2/3)ℓ/n (tanh)";
    public string Source => "seed 004 §4.3, §5.4 (eqs. 5.109, 5.130, 5.131)";

    public IReadOnlyList<SettingInfo> Settings { get; } =
    [
        new("widths", "hidden widths n", "128,256,512", "128,256,512,1024"),
        new("depth", "hidden layers L (every ℓ ≤ L is measured)", "12", "24"),
        new("nets", "networks per width", "2000", "10000"),
        new("off_critical", "σ_b²:σ_w² of the off-critical configurations", "0.2:1.5", "0.2:1.5"),
    ];

    private sealed record Config(string Name, Activation Act, double Sw2, double Sb2, bool Critical);

    public ExperimentOutput Run(RunContext ctx)
    {
        var s = ctx.Settings;
        int[] widths = s.GetIntList("widths", 8).Distinct().Order().ToArray();
        int depth = s.GetInt("depth", 2), nets = s.GetInt("nets", 50);
        var off = s.GetString("off_critical").Split(':');
        if (off.Length != 2 || !double.TryParse(off[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double offB) || offB < 0
            || !double.TryParse(off[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double offW) || offW <= 0)
            throw new BadInputException($"Setting off_critical='{s.GetString("off_critical")}' must be σ_b²:σ_w², e.g. 0.2:1.5.");
        Config[] configs =
        [
            new("relu-critical", new Relu(), Criticality.CriticalWeightVariance(new Relu()), 0, true),
            new("tanh-critical", new Tanh(), Criticality.CriticalWeightVariance(new Tanh()), 0, true),
            new("linear-critical", new Linear(), 1, 0, true),
            new("relu-off-critical", new Relu(), offW, offB, false),
            new("tanh-off-critical", new Tanh(), offW, offB, false),
        ];
        var output = new ExperimentOutput();
        var root = new Rng(ctx.Seed);
        var x = Inputs.ToSphere(Matrix.FromRows([Enumerable.Range(0, 16).Select(i => Math.Sin(i + 1.0)).ToArray()]));   // x·x/d = 1
        var specs = configs.Select(c => new MlpSpec(16, widths[0], depth, c.Act, c.Sw2, c.Sb2)).ToArray();
        var sims = ConditionalKernelEnsemble.Sample(specs, widths, nets, x, root, progress: ctx.Progress, cancellation: ctx.Cancellation);

        var rows = new List<(string Cfg, int Depth, int Width, double Kappa, double Se, double Predicted, double VK2)>();
        var plots = new List<SeriesSpec>();
        var coefficients = new List<(string Name, double Predicted, double Measured, double Se, double Asymptote)>();
        for (int c = 0; c < configs.Length; c++)
        {
            var cfg = configs[c];
            var theory = FourPointVertex.SingleInput(cfg.Act, cfg.Sw2, cfg.Sb2, 1.0, depth + 1);   // theory[ℓ] = layer ℓ+1 = output after ℓ hidden layers
            output.Facts[$"{cfg.Name}"] = FormattableString.Invariant($"σ_b² = {cfg.Sb2}, σ_w² = {cfg.Sw2:G6}");
            foreach (var sim in sims)
                for (int l = 1; l <= depth; l++)
                {
                    var (kappa, se) = ConditionalKernelEnsemble.Kurtosis(sim.Kc[c][l - 1][0]);
                    rows.Add((cfg.Name, l, sim.Width, kappa, se, theory[l].ExcessKurtosis(sim.Width), theory[l].NormalisedVertex));
                }

            // (1) κ at every (ℓ, n) equals 3V/(nK²): tolerance 4·SE + model error κ·(V/K²)/n, the size of the next order.
            var mine = rows.Where(r => r.Cfg == cfg.Name).ToList();
            var w = mine.MaxBy(r => (Math.Abs(r.Kappa - r.Predicted) - r.Predicted * r.VK2 / r.Width) / r.Se);
            double model = w.Predicted * w.VK2 / w.Width;
            output.Claims.Add(Claim.Compare($"vertex-{cfg.Name}",
                $"{cfg.Act.Name} (σ_b² = {cfg.Sb2:G3}, σ_w² = {cfg.Sw2:G4}): output excess kurtosis = 3V/(nK²) from the vertex recursion at every depth and width",
                "seed 004 eq. 5.109; §4.3", w.Predicted, w.Kappa, w.Se, 4 * w.Se + model,
                $"worst of {mine.Count} (depth, width) points: ℓ = {w.Depth}, n = {w.Width}; tolerance 4·SE + model error κ·(V/K²)/n = {model:G3} (next order in 1/n)."));

            // (2) At criticality n·κ/3 = V/K² grows linearly in ℓ: fitted slope at the largest width against the recursion's
            // slope over the same layers (its large-ℓ limit is 3A₄/A₂² − 1 = 5 for ReLU, 2/3 for tanh: eqs. 5.130–5.131).
            if (cfg.Critical)
            {
                int nMax = widths[^1];
                var last = mine.Where(r => r.Width == nMax && r.Depth >= Math.Max(2, depth / 2)).ToList();
                double[] ls = last.Select(r => (double)r.Depth).ToArray();
                double[] sig = last.Select(r => r.Se * nMax / 3).ToArray();
                var fit = Statistics.FitLine(ls, last.Select(r => r.Kappa * nMax / 3).ToArray(), sig);
                var fitTheory = Statistics.FitLine(ls, last.Select(r => r.Predicted * nMax / 3).ToArray(), sig);
                double asymptote = OptimalAspectRatio.Nu(cfg.Act);
                coefficients.Add((cfg.Name, fitTheory.Slope, fit.Slope, fit.SlopeStdErr, asymptote));
                output.Claims.Add(Claim.Compare($"vertex-slope-{cfg.Name}",
                    $"{cfg.Act.Name} at criticality: the normalised vertex V/(nK²) grows linearly in ℓ/n with the recursion's coefficient",
                    "seed 004 eqs. 5.130–5.131", fitTheory.Slope, fit.Slope, fit.SlopeStdErr, 4 * fit.SlopeStdErr + fitTheory.Slope * depth / nMax,
                    $"fit of n·κ/3 against ℓ ∈ [{ls.Min()}, {ls.Max()}] at n = {nMax}; asymptotic coefficient {asymptote:G3}; tolerance 4·SE + slope·L/n (next order)."));
            }
            var top = mine.Where(r => r.Width == widths[^1]).ToList();
            plots.Add(new SeriesSpec($"{cfg.Name} measured", top.Select(r => (double)r.Depth).ToArray(), top.Select(r => r.Kappa * r.Width / 3).ToArray(),
                SeriesKind.Points, top.Select(r => r.Se * r.Width / 3).ToArray()));
            plots.Add(new SeriesSpec($"{cfg.Name} recursion", top.Select(r => (double)r.Depth).ToArray(), top.Select(r => r.VK2).ToArray(), SeriesKind.Line));
        }
        output.Tables["kurtosis"] = SeriesTable.FromRows(rows, ("config", r => r.Cfg), ("depth", r => r.Depth), ("width", r => r.Width),
            ("excess_kurtosis", r => r.Kappa), ("stderr", r => r.Se), ("predicted_3V_over_nK2", r => r.Predicted), ("V_over_K2", r => r.VK2));
        output.Plots.Add(new PlotSpec($"Normalised vertex vs depth (n = {widths[^1]})", "hidden layers ℓ", "n·κ/3 = V/K²", plots,
            Caption: "Points: measured n·κ/3 ± SE; lines: the four-point vertex recursion. At criticality linear in ℓ; off criticality it saturates."));
        var idx = Enumerable.Range(1, coefficients.Count).Select(i => (double)i).ToArray();
        output.Plots.Add(new PlotSpec("Vertex coefficient d(V/K²)/dℓ at criticality, per activation", "activation (see caption)", "coefficient", [
            new SeriesSpec("measured (fit)", idx, coefficients.Select(c => c.Measured).ToArray(), SeriesKind.Points, coefficients.Select(c => c.Se).ToArray()),
            new SeriesSpec("recursion over the same layers", idx, coefficients.Select(c => c.Predicted).ToArray(), SeriesKind.Points),
            new SeriesSpec("asymptotic ν (eqs. 5.130–5.131)", idx, coefficients.Select(c => c.Asymptote).ToArray(), SeriesKind.Points)],
            Caption: string.Join("; ", coefficients.Select((c, i) => $"{i + 1} = {c.Name}")) + ". ν = 3A₄/A₂² − 1 (5 for ReLU, 2 for the deep linear network) or 2/3 (K* = 0 class)."));
        output.Tables["coefficients"] = SeriesTable.FromRows(coefficients, ("config", c => c.Name), ("predicted_slope", c => c.Predicted),
            ("measured_slope", c => c.Measured), ("stderr", c => c.Se), ("asymptotic_nu", c => c.Asymptote));
        return output;
    }
}

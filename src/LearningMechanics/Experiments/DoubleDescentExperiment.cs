using System.Globalization;
using LearningMechanics.Lab;
using LearningMechanics.Measurement.Ensembles;
using LearningMechanics.Numerics;
using LearningMechanics.Theory.SolvableModels;

namespace LearningMechanics.Experiments;

/// <summary>
/// <c>double-descent</c> (Hastie et al. 2022; Belkin et al. 2019; Advani et al. 2020): ridgeless linear regression on
/// isotropic Gaussian features has a test risk that diverges at the interpolation threshold γ = p/n = 1 and falls again
/// beyond it, exactly as <see cref="IsotropicRegression"/> predicts; the optimally tuned ridge (Dobriban &amp; Wager 2018)
/// removes the peak. p is fixed and n = p/γ varies, so γ &gt; 1 means fewer samples than parameters.
/// </summary>
public sealed class DoubleDescentExperiment : IExperiment
{
    private const string Reference = "Hastie et al. 2022; Belkin et al. 2019; Advani et al. 2020";

    public string Id => "double-descent";
    public string Title => "Double descent: the risk peaks where the model starts to interpolate";
    public string Summary => "ridgeless risk of isotropic linear regression diverges at p = n and descends again beyond it; " +
        "optimal ridge removes the peak";
    public string Source => Reference;

    public IReadOnlyList<SettingInfo> Settings { get; } =
    [
        new("p", "features (fixed; n = p/γ samples)", "200", "400"),
        new("gammas", "ratios γ = p/n", "0.2,0.4,0.6,0.8,0.9,1.1,1.25,1.5,2,3,5",
            "0.1,0.2,0.4,0.6,0.8,0.9,0.95,1.05,1.1,1.25,1.5,2,3,5,10"),
        new("r2", "signal ‖β‖²", "1", "1"),
        new("sigma2", "noise variance σ²", "0.25", "0.25"),
        new("draws", "independent problems per γ", "200", "1000"),
    ];

    private static readonly ClaimDeclaration Ridgeless = new("ridgeless-risk",
        "the ridgeless (minimum-norm) test risk ‖β̂ − β‖² equals σ²p/(n − p − 1) below and " +
        "r²(1 − n/p) + σ²n/(p − n − 1) above the interpolation threshold (exact at finite n for Gaussian features; → " +
        "Hastie et al.'s σ²γ/(1 − γ) and r²(1 − 1/γ) + σ²/(γ − 1)), peaking at γ = 1 (worst of {count} ratios shown)",
        Reference, ClaimRule.TwoSided,
        "4·SE of the mean risk over the draws at the ratio furthest from its prediction")
    {
        Competitor = "no peak: interpolation costs nothing, the risk is the optimally regularised one σ²γ·m(−λ*)",
    };

    private static readonly ClaimDeclaration OptimalRidge = new("optimal-ridge",
        "with the optimal ridge λ* = σ²γ/r² the risk is σ²γ·m(−λ*) (m the Marchenko–Pastur Stieltjes transform; Dobriban & " +
        "Wager 2018, Hastie et al. 2022): finite and monotone in γ, the peak is gone (worst of {count} ratios shown)",
        "Dobriban & Wager 2018; Hastie et al. 2022", ClaimRule.TwoSided,
        "4·SE of the mean risk + 1/min(n, p) relative: the O(1/N) finite-size correction of a real Wishart matrix's mean " +
        "resolvent, which the n, p → ∞ limit leaves out (the ridgeless risk's exact form shows one: p/(n − p − 1) against " +
        "p/(n − p))")
    {
        Competitor = "the ridge does not matter: the risk is the ridgeless one, with its peak",
    };

    public IReadOnlyList<ClaimDeclaration> Claims { get; } = [Ridgeless, OptimalRidge];

    public void Validate(Settings settings) => Setup.From(settings);

    /// <summary>
    /// Per ratio (n = p/γ samples) and draw: the n × p Gaussian design, XᵀX (2n·p²), for p &gt; n also XXᵀ (2n²·p) and its
    /// Cholesky, and the p × p Cholesky solves of least squares and ridge; in memory one draw's design, Grams and factors.
    /// </summary>
    public ResourceEstimate? Estimate(Settings settings)
    {
        var p = Setup.From(settings);
        double features = p.P;
        double flops = 0;
        double bytes = 0;
        foreach (double gamma in p.Gammas)
        {
            double n = Setup.N(p.P, gamma);
            double draw = 22 * n * features + 2 * n * features * features + 2 * WorkEstimate.Cholesky(features)
                + (features > n ? 2 * n * n * features + WorkEstimate.Cholesky(n) + 2 * n * features : 0);
            flops += p.Draws * draw;
            bytes = Math.Max(bytes, WorkEstimate.Matrix(n, features) + 3 * WorkEstimate.Matrix(features, features)
                + (features > n ? 2 * WorkEstimate.Matrix(n, n) : 0) + WorkEstimate.Matrix(n + features, 4));
        }
        return new ResourceEstimate(flops, bytes);
    }

    private sealed record Setup(int P, double[] Gammas, double R2, double Sigma2, int Draws)
    {
        public static Setup From(Settings s)
        {
            int p = s.GetInt("p", 8);
            double[] gammas = s.GetDoubleList("gammas", 0);
            foreach (double g in gammas)
            {
                int n = N(p, g);
                if (Math.Abs(n - p) < 5)
                    throw new BadInputException($"Setting gammas: γ = {g} gives n = {n} within 4 of p = {p}, where the ridgeless risk " +
                        "has no finite variance; move γ away from 1 or raise p.");
            }
            return new Setup(p, gammas, s.GetDouble("r2", 1e-12), s.GetDouble("sigma2", 1e-12), s.GetInt("draws", 10));
        }

        public static int N(int p, double gamma) => Math.Max(1, (int)Math.Round(p / gamma));
    }

    private sealed record Point(double Gamma, int N, double Ridgeless, double RidgelessSe, double Ridge, double RidgeSe);

    public ExperimentOutput Run(RunContext ctx)
    {
        var p = Setup.From(ctx.Settings);
        var root = new Rng(ctx.Seed);
        var points = new List<Point>();
        for (int g = 0; g < p.Gammas.Length; g++)
        {
            double gamma = p.Gammas[g];
            int n = Setup.N(p.P, gamma);
            double lambda = IsotropicRegression.OptimalRidge((double)p.P / n, p.R2, p.Sigma2);
            var risks = new RegressionRisks[p.Draws];
            var stream = root.Split((ulong)g);
            for (int d = 0; d < p.Draws; d++)
            {
                ctx.Cancellation.ThrowIfCancellationRequested();
                risks[d] = LinearRegressionRisk.Draw(n, p.P, p.R2, p.Sigma2, lambda, stream.Split((ulong)d));
            }
            ctx.Progress?.Report(new ProgressInfo("ratios", g + 1, p.Gammas.Length));
            var a = risks.Select(r => r.Ridgeless).ToArray();
            var b = risks.Select(r => r.Ridge).ToArray();
            points.Add(new Point(gamma, n, Statistics.Mean(a), Statistics.StandardError(a), Statistics.Mean(b),
                Statistics.StandardError(b)));
        }
        var output = new ExperimentOutput();
        Judge(output, p, points);
        Report(output, p, points);
        return output;
    }

    private static void Judge(ExperimentOutput output, Setup p, List<Point> points)
    {
        double Gamma(Point q) => (double)p.P / q.N;
        output.Claims.Add(ScalingFits.Decisive(points.Select(q =>
        {
            double predicted = IsotropicRegression.RidgelessRiskFinite(q.N, p.P, p.R2, p.Sigma2);
            double limit = IsotropicRegression.RidgelessRisk(Gamma(q), p.R2, p.Sigma2);
            return Ridgeless.With(("count", points.Count)).Compare(predicted, q.Ridgeless, q.RidgelessSe, 4 * q.RidgelessSe,
                string.Create(CultureInfo.InvariantCulture,
                    $"γ = p/n = {p.P}/{q.N} = {Gamma(q):G4}: {p.Draws} draws; the n → ∞ limit is {limit:G4}; tolerance 4·SE."),
                competitor: IsotropicRegression.OptimalRidgeRisk(Gamma(q), p.R2, p.Sigma2));
        }).ToList()));
        output.Claims.Add(ScalingFits.Decisive(points.Select(q =>
        {
            double predicted = IsotropicRegression.OptimalRidgeRisk(Gamma(q), p.R2, p.Sigma2);
            double finiteSize = predicted / Math.Min(q.N, p.P);
            double lambda = IsotropicRegression.OptimalRidge(Gamma(q), p.R2, p.Sigma2);
            return OptimalRidge.With(("count", points.Count)).Compare(predicted, q.Ridge, q.RidgeSe, 4 * q.RidgeSe + finiteSize,
                string.Create(CultureInfo.InvariantCulture,
                    $"γ = {Gamma(q):G4}, λ* = {lambda:G4}: {p.Draws} draws; tolerance 4·SE + {finiteSize:G2} (finite size)."),
                competitor: IsotropicRegression.RidgelessRiskFinite(q.N, p.P, p.R2, p.Sigma2));
        }).ToList()));
        var peak = points.MaxBy(q => q.Ridgeless)!;
        output.Facts["measured_peak"] = string.Create(CultureInfo.InvariantCulture,
            $"largest ridgeless risk {peak.Ridgeless:G4} ± {peak.RidgelessSe:G2} at γ = {(double)p.P / peak.N:G4}");
    }

    private static void Report(ExperimentOutput output, Setup p, List<Point> points)
    {
        output.Tables["risk"] = SeriesTable.FromRows(points, ("gamma", q => (double)p.P / q.N), ("n", q => q.N), ("p", _ => p.P),
            ("ridgeless_risk", q => q.Ridgeless), ("ridgeless_se", q => q.RidgelessSe),
            ("ridgeless_exact", q => IsotropicRegression.RidgelessRiskFinite(q.N, p.P, p.R2, p.Sigma2)),
            ("ridgeless_limit", q => IsotropicRegression.RidgelessRisk((double)p.P / q.N, p.R2, p.Sigma2)),
            ("optimal_ridge_risk", q => q.Ridge), ("optimal_ridge_se", q => q.RidgeSe),
            ("optimal_ridge_limit", q => IsotropicRegression.OptimalRidgeRisk((double)p.P / q.N, p.R2, p.Sigma2)));
        double lo = p.Gammas.Min(), hi = p.Gammas.Max();
        var grid = Enumerable.Range(0, 241).Select(i => lo * Math.Pow(hi / lo, i / 240.0)).Where(g => Math.Abs(g - 1) > 0.02).ToArray();
        var gx = points.Select(q => (double)p.P / q.N).ToArray();
        output.Plots.Add(new PlotSpec($"Test risk against γ = p/n (p = {p.P}, σ² = {p.Sigma2}, r² = {p.R2})", "γ = p/n",
            "excess test risk ‖β̂ − β‖²",
            [
                new SeriesSpec("ridgeless measured", gx, [.. points.Select(q => q.Ridgeless)], SeriesKind.Points,
                    [.. points.Select(q => q.RidgelessSe)]),
                new SeriesSpec("ridgeless (Hastie et al. 2022)", grid,
                    [.. grid.Select(g => IsotropicRegression.RidgelessRisk(g, p.R2, p.Sigma2))], SeriesKind.Line, Dashed: true),
                new SeriesSpec("optimal ridge measured", gx, [.. points.Select(q => q.Ridge)], SeriesKind.Points,
                    [.. points.Select(q => q.RidgeSe)]),
                new SeriesSpec("optimal ridge (σ²γ·m(−λ*))", grid,
                    [.. grid.Select(g => IsotropicRegression.OptimalRidgeRisk(g, p.R2, p.Sigma2))], SeriesKind.Line, Dashed: true),
            ], LogX: true, LogY: true,
            Caption: "Points: mean ± SE over independent problems; dashed: the n, p → ∞ limits. The claims compare the ridgeless " +
                "points with the exact finite-n expectation (in the table), which differs from the limit by O(1/|n − p|)."));
    }
}

using System.Globalization;
using LearningMechanics.Numerics;
using LearningMechanics.Theory.RandomMatrix;

namespace LearningMechanics.Measurement.Observables;

/// <summary>
/// The spectrum of one weight matrix W (m × n, transposed so that m ≤ n): eigenvalues λ = s²/n of (1/n)·W Wᵀ from the
/// singular values s (LAPACK gesdd), a Marchenko–Pastur fit of the bulk, the outliers above its edge, and the
/// power-law exponent of the tail (spectral outliers: Lauditi et al. 2026; heavy-tailed self-regularisation: Martin &amp; Mahoney 2021).
/// </summary>
public sealed record WeightSpectrum(
    string Name, int Rows, int Cols, double[] Eigenvalues, double[] SingularValues,
    double Sigma2, double BulkEdge, int[] Outliers, double KsDistance,
    double TailAlpha, double TailAlphaStdErr, double TailXmin, int TailCount)
{
    /// <summary>
    /// Fits σ² by the mean of the bulk (the MP mean is σ²), iterating: eigenvalues above λ₊(1 + 3·m^{−2/3}) (the edge
    /// plus a few Tracy–Widom widths) are outliers and leave the mean. The KS distance compares the bulk with MP(q, σ²).
    /// </summary>
    /// <summary>The largest weight magnitude analysed: the eigenvalues s²/n of larger ones could overflow.</summary>
    public const double MaxMagnitude = 1e150;

    public static WeightSpectrum Analyse(string name, Matrix w)
    {
        var a = w.Rows <= w.Cols ? w : w.Transposed();
        int m = a.Rows;
        int n = a.Cols;
        if (m < 2) throw new BadInputException($"Weight matrix '{name}' is {w.Rows}×{w.Cols}; spectra need at least 2 rows and columns.");
        if (w.FirstInvalid(MaxMagnitude) is { } bad)
            throw new BadInputException(string.Create(CultureInfo.InvariantCulture,
                $"Weight matrix '{name}' has {bad.Value} at row {bad.Row}, column {bad.Col}; spectra need finite weights of ") +
                "magnitude ≤ 1e150 (their squares must stay finite).");
        var (_, s, _) = Lapack.Svd(a);
        var sv = s.OrderByDescending(v => v).ToArray();
        var lambda = sv.Select(v => v * v / n).ToArray();
        double q = (double)m / n;
        int outliers = 0;
        double sigma2 = lambda.Average();
        for (int iter = 0; iter < 50; iter++)
        {
            if (!(sigma2 > 0)) break;
            double edge = MarchenkoPastur.OutlierThreshold(q, sigma2, m);
            int k = lambda.Count(l => l > edge);
            if (k == outliers && iter > 0) break;
            outliers = Math.Min(k, m - 2);
            sigma2 = lambda.Skip(outliers).Sum() / (m - outliers);
        }
        double bulkEdge = sigma2 > 0 ? MarchenkoPastur.Edges(q, sigma2).Upper : 0;
        var bulk = lambda.Skip(outliers).OrderBy(v => v).ToArray();
        double ks = sigma2 > 0 ? Statistics.KsDistance(bulk, l => MarchenkoPastur.Cdf(l, q, sigma2)) : 0;
        var (alpha, se, xmin, count) = PowerLawTail(lambda);
        return new WeightSpectrum(name, w.Rows, w.Cols, lambda, sv, sigma2, bulkEdge,
            Enumerable.Range(0, outliers).ToArray(), ks, alpha, se, xmin, count);
    }

    /// <summary>
    /// Maximum-likelihood power-law exponent of the tail p(x) ∝ x^{−α}, x ≥ x_min (Clauset et al. 2009):
    /// α̂ = 1 + k / Σ ln(x_i/x_min), SE (α̂ − 1)/√k, with x_min chosen among the data to minimise the KS distance
    /// between the tail and the fitted law (at least 10 points in the tail, or all when fewer).
    /// </summary>
    public static (double Alpha, double StdErr, double Xmin, int Count) PowerLawTail(IReadOnlyList<double> values)
    {
        var x = values.Where(v => v > 0).OrderByDescending(v => v).ToArray();
        if (x.Length < 3) return (double.NaN, double.NaN, double.NaN, x.Length);
        int minTail = Math.Min(10, x.Length);
        double best = double.PositiveInfinity;
        double bestAlpha = double.NaN;
        double bestXmin = double.NaN;
        int bestK = 0;
        for (int k = minTail; k <= x.Length; k++)
        {
            double xmin = x[k - 1];
            double sumLog = 0;
            for (int i = 0; i < k; i++) sumLog += Math.Log(x[i] / xmin);
            if (!(sumLog > 0)) continue;
            double alpha = 1 + k / sumLog;
            double d = 0;
            // KS between the tail's empirical CCDF and (x/x_min)^{1−α}.
            for (int i = 0; i < k; i++)
            {
                double model = Math.Pow(x[i] / xmin, 1 - alpha);
                d = Math.Max(d, Math.Max(Math.Abs(model - (double)i / k), Math.Abs(model - (i + 1.0) / k)));
            }
            if (d < best) { best = d; bestAlpha = alpha; bestXmin = xmin; bestK = k; }
        }
        return (bestAlpha, (bestAlpha - 1) / Math.Sqrt(bestK), bestXmin, bestK);
    }
}

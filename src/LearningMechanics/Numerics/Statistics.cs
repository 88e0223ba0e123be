namespace LearningMechanics.Numerics;

/// <summary>A fitted straight line y = Intercept + Slope·x with standard errors.</summary>
public readonly record struct LineFit(double Slope, double SlopeStdErr, double Intercept, double InterceptStdErr, double ReducedChiSquare);

/// <summary>Sample statistics, bootstrap and (weighted) least squares.</summary>
public static class Statistics
{
    public static double Mean(ReadOnlySpan<double> x)
    {
        if (x.Length == 0) throw new ArgumentException("Mean of an empty sample.");
        double s = 0; foreach (var v in x) s += v;
        return s / x.Length;
    }

    /// <summary>Unbiased sample variance (divisor n − 1), two-pass.</summary>
    public static double Variance(ReadOnlySpan<double> x)
    {
        if (x.Length < 2) throw new ArgumentException($"Variance needs at least 2 values, got {x.Length}.");
        double m = Mean(x);
        double s = 0;
        foreach (var v in x) s += (v - m) * (v - m);
        return s / (x.Length - 1);
    }

    /// <summary>Standard error of the mean, √(s²/n).</summary>
    public static double StandardError(ReadOnlySpan<double> x) => Math.Sqrt(Variance(x) / x.Length);

    /// <summary>Sample covariance of paired samples (divisor n − 1).</summary>
    public static double Covariance(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        if (x.Length != y.Length || x.Length < 2) throw new ArgumentException("Covariance needs two paired samples of length ≥ 2.");
        double mx = Mean(x);
        double my = Mean(y);
        double s = 0;
        for (int i = 0; i < x.Length; i++) s += (x[i] - mx) * (y[i] - my);
        return s / (x.Length - 1);
    }

    /// <summary>
    /// Kolmogorov–Smirnov distance sup_x |F_n(x) − F(x)| between the empirical CDF of a sample sorted ascending and a
    /// continuous CDF F: the largest gap just before or at each sample point.
    /// </summary>
    public static double KsDistance(ReadOnlySpan<double> sortedAscending, Func<double, double> cdf)
    {
        int n = sortedAscending.Length;
        if (n == 0) throw new ArgumentException("KS distance of an empty sample.");
        double d = 0;
        for (int i = 0; i < n; i++)
        {
            double f = cdf(sortedAscending[i]);
            d = Math.Max(d, Math.Max(Math.Abs(f - (double)i / n), Math.Abs(f - (i + 1.0) / n)));
        }
        return d;
    }

    /// <summary>Percentile bootstrap confidence interval of <paramref name="statistic"/> at the given level.</summary>
    public static (double Lower, double Upper) BootstrapCi(double[] sample, Func<double[], double> statistic, Rng rng,
        int resamples = 2000, double level = 0.95)
    {
        if (sample.Length == 0) throw new ArgumentException("Bootstrap of an empty sample.");
        if (level is <= 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(level), $"Confidence level {level} must lie in (0, 1).");
        var stats = new double[resamples];
        var draw = new double[sample.Length];
        for (int r = 0; r < resamples; r++)
        {
            for (int i = 0; i < draw.Length; i++) draw[i] = sample[rng.NextInt(sample.Length)];
            stats[r] = statistic(draw);
        }
        Array.Sort(stats);
        double alpha = (1 - level) / 2;
        return (Quantile(stats, alpha), Quantile(stats, 1 - alpha));
    }

    /// <summary>The median (the mean of the two middle values for an even count).</summary>
    public static double Median(IEnumerable<double> x)
    {
        var sorted = x.Order().ToArray();
        if (sorted.Length == 0) throw new ArgumentException("Median of an empty sample.");
        return Quantile(sorted, 0.5);
    }

    /// <summary>Linear-interpolation quantile of an ascending sorted array.</summary>
    public static double Quantile(double[] sorted, double p)
    {
        double h = (sorted.Length - 1) * p;
        int lo = (int)Math.Floor(h);
        int hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
    }

    /// <summary>
    /// Weighted least squares y ≈ X·β with weights w = 1/σ². Returns β and its covariance (XᵀWX)⁻¹, scaled by
    /// the reduced χ² when that exceeds 1 (so a poor fit never reports an over-confident error).
    /// </summary>
    public static (double[] Beta, Matrix Covariance, double ReducedChiSquare) WeightedLeastSquares(Matrix x, double[] y, double[] sigma)
    {
        int n = x.Rows;
        int p = x.Cols;
        if (y.Length != n || sigma.Length != n)
            throw new ArgumentException("Design, targets and errors must have the same number of rows.");
        if (n < p) throw new ArgumentException($"Least squares with {p} parameters needs at least {p} points, got {n}.");
        var xtwx = new Matrix(p, p);
        var xtwy = new Matrix(p, 1);
        for (int i = 0; i < n; i++)
        {
            if (!(sigma[i] > 0) || !double.IsFinite(y[i]))
                throw new ArgumentException($"Point {i}: need finite y and σ > 0 (y={y[i]}, σ={sigma[i]}).");
            double w = 1 / (sigma[i] * sigma[i]);
            for (int a = 0; a < p; a++)
            {
                xtwy[a, 0] += w * x[i, a] * y[i];
                for (int b = 0; b < p; b++) xtwx[a, b] += w * x[i, a] * x[i, b];
            }
        }
        var l = Lapack.Cholesky(xtwx);
        var beta = Lapack.CholeskySolve(l, xtwy).Data;
        var cov = Lapack.CholeskySolve(l, Matrix.Identity(p));
        double chi2 = 0;
        for (int i = 0; i < n; i++)
        {
            double f = 0; for (int a = 0; a < p; a++) f += x[i, a] * beta[a];
            chi2 += (y[i] - f) * (y[i] - f) / (sigma[i] * sigma[i]);
        }
        double red = n > p ? chi2 / (n - p) : 0;
        if (red > 1) for (int i = 0; i < cov.Data.Length; i++) cov.Data[i] *= red;
        return (beta, cov, red);
    }

    /// <summary>Weighted straight-line fit y = a + b·x (see <see cref="WeightedLeastSquares"/>).</summary>
    public static LineFit FitLine(double[] x, double[] y, double[] sigma)
    {
        var design = new Matrix(x.Length, 2);
        for (int i = 0; i < x.Length; i++) { design[i, 0] = 1; design[i, 1] = x[i]; }
        var (beta, cov, red) = WeightedLeastSquares(design, y, sigma);
        return new LineFit(beta[1], Math.Sqrt(cov[1, 1]), beta[0], Math.Sqrt(cov[0, 0]), red);
    }

    /// <summary>
    /// Slope of ln y against ln x for positive data with standard errors <paramref name="yStdErr"/>
    /// (propagated as σ_ln y = σ_y / y).
    /// </summary>
    public static LineFit LogLogSlope(double[] x, double[] y, double[] yStdErr)
    {
        var lx = new double[x.Length];
        var ly = new double[x.Length];
        var ls = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            if (!(x[i] > 0) || !(y[i] > 0)) throw new ArgumentException($"Log–log fit needs positive data (x={x[i]}, y={y[i]}).");
            lx[i] = Math.Log(x[i]); ly[i] = Math.Log(y[i]); ls[i] = yStdErr[i] / y[i];
        }
        return FitLine(lx, ly, ls);
    }
}

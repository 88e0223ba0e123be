using LearningMechanics.Numerics;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.Optimization;

namespace LearningMechanics.Lab;

/// <summary>
/// A neural scaling law L(N, D) = E + A/N^α + B/D^β in model size N and data D (Hoffmann et al. 2022, eq. 2), with the
/// compute-optimal allocation it implies for C = 6ND.
/// </summary>
public sealed record ScalingLaw(double E, double A, double Alpha, double B, double Beta)
{
    public double Loss(double n, double d) => E + A * Math.Pow(n, -Alpha) + B * Math.Pow(d, -Beta);

    /// <summary>N_opt ∝ C^{β/(α+β)} (Hoffmann et al. 2022, eq. 4).</summary>
    public double ParameterExponent => Beta / (Alpha + Beta);

    /// <summary>N_opt(C) = G·(C/6)^{β/(α+β)}, G = (αA/(βB))^{1/(α+β)} (Hoffmann et al. 2022, eq. 4); D_opt = C/(6N_opt).</summary>
    public double OptimalParameters(double compute) =>
        Math.Pow(Alpha * A / (Beta * B), 1 / (Alpha + Beta)) * Math.Pow(compute / 6, ParameterExponent);

    /// <summary>The five parameters in a fixed order, for tables and bootstrap statistics.</summary>
    public double[] ToArray() => [E, A, Alpha, B, Beta];

    public static readonly string[] Names = ["E", "A", "alpha", "B", "beta"];
}

/// <summary>A fit with bootstrap percentile intervals (2.5 %, 97.5 %) and bootstrap standard errors, parameter by parameter
/// in the order of <see cref="ScalingLaw.ToArray"/>, and the same for the compute-optimal exponent β/(α + β).</summary>
public sealed record ScalingLawEstimate(ScalingLaw Fit, double[] Lower, double[] Upper, double[] StdErr, double ExponentLower,
    double ExponentUpper, double ExponentStdErr, int Replicates, int Rows)
{
    /// <summary>The bootstrap refits themselves (for predictive intervals).</summary>
    public IReadOnlyList<ScalingLaw> Samples { get; init; } = [];

    /// <summary>The 2.5 % and 97.5 % bootstrap percentiles of the predicted loss at (N, D).</summary>
    public (double Lower, double Upper) PredictionInterval(double n, double d)
    {
        double[] v = [.. Samples.Select(s => s.Loss(n, d)).Order()];
        return v.Length < 2 ? (double.NaN, double.NaN) : (Statistics.Quantile(v, 0.025), Statistics.Quantile(v, 0.975));
    }
}

/// <summary>
/// Fits <see cref="ScalingLaw"/> the way Hoffmann et al. 2022 (approach 3) did: minimise Σ_i Huber_δ(LSE(a − α log N_i,
/// b − β log D_i, e) − log L_i) over (a, b, e, α, β), with A = e^a, B = e^b, E = e^e, δ = 10⁻³, by L-BFGS from a grid of
/// starting points (α, β ∈ {0, 0.5, …, 2}, e ∈ {−1, −0.5, …, 1}, a, b ∈ {0, 5, …, 25}), keeping the best; and bootstrap
/// intervals from refits on rows resampled with replacement.
/// </summary>
public static class ScalingLawFit
{
    public const double DefaultDelta = 1e-3;

    /// <summary>The starting grid of Hoffmann et al. 2022 (approach 3), as (a, α, b, β, e).</summary>
    public static IReadOnlyList<double[]> HoffmannGrid { get; } =
    [
        .. from a in Steps(0, 25, 5) from alpha in Steps(0, 2, 0.5) from b in Steps(0, 25, 5) from beta in Steps(0, 2, 0.5)
        from e in Steps(-1, 1, 0.5) select new[] { a, alpha, b, beta, e },
    ];

    private static IEnumerable<double> Steps(double from, double to, double step)
    {
        for (double x = from; x <= to + 1e-9; x += step) yield return x;
    }

    /// <summary>Checks the table: equal lengths, finite positive N, D and loss, more rows than the five parameters. Errors
    /// name the row (<paramref name="row"/>, default "Row i") and the column (<paramref name="columns"/>, default N, D,
    /// loss).</summary>
    public static void Validate(double[] n, double[] d, double[] loss, string[]? columns = null, Func<int, string>? row = null)
    {
        var names = columns ?? ["N", "D", "loss"];
        row ??= i => $"Row {i + 1}";
        if (n.Length != d.Length || n.Length != loss.Length)
            throw new BadInputException($"Columns have different lengths: N {n.Length}, D {d.Length}, loss {loss.Length}.");
        if (n.Length <= 5) throw new BadInputException($"{n.Length} rows cannot determine the five parameters; need ≥ 6.");
        for (int i = 0; i < n.Length; i++)
        {
            double[] cells = [n[i], d[i], loss[i]];
            for (int k = 0; k < 3; k++)
                if (!(cells[k] > 0) || !double.IsFinite(cells[k]))
                    throw new BadInputException($"{row(i)}: {names[k]} = {cells[k]} must be a finite number > 0.");
        }
    }

    /// <summary>The best fit from every start in <paramref name="starts"/> (default <see cref="HoffmannGrid"/>).</summary>
    public static (ScalingLaw Law, double Objective) Fit(double[] n, double[] d, double[] loss, double delta = DefaultDelta,
        IEnumerable<double[]>? starts = null)
    {
        Validate(n, d, loss);
        var best = new Problem(n, d, loss, delta).MinimiseAll(starts?.ToList() ?? HoffmannGrid)[0];
        return (ToLaw(best.X), best.Value);
    }

    /// <summary>
    /// The fit and <paramref name="replicates"/> bootstrap refits (rows resampled with replacement, each refit started from
    /// the full fit and the five best grid starts of the full data).
    /// </summary>
    public static ScalingLawEstimate WithBootstrap(double[] n, double[] d, double[] loss, int replicates, Rng rng,
        double delta = DefaultDelta, IProgress<ProgressInfo>? progress = null, CancellationToken ct = default)
    {
        if (replicates < 2) throw new BadInputException($"--bootstrap {replicates}: need ≥ 2 replicates.");
        Validate(n, d, loss);
        var problem = new Problem(n, d, loss, delta);
        var ranked = problem.MinimiseAll(HoffmannGrid);
        var fit = ToLaw(ranked[0].X);
        double[][] starts = [.. ranked.Take(5).Select(r => r.X)];
        var laws = new ScalingLaw[replicates];
        int rows = n.Length;
        for (int b = 0; b < replicates; b++)
        {
            ct.ThrowIfCancellationRequested();
            var stream = rng.Split((ulong)b);
            var idx = Enumerable.Range(0, rows).Select(_ => stream.NextInt(rows)).ToArray();
            var sub = new Problem([.. idx.Select(i => n[i])], [.. idx.Select(i => d[i])], [.. idx.Select(i => loss[i])], delta);
            laws[b] = ToLaw(starts.Select(s => sub.Minimise(s)).MinBy(r => r.Value).X);
            progress?.Report(new ProgressInfo("bootstrap", b + 1, replicates));
        }
        double[] Column(int k) => [.. laws.Select(s => s.ToArray()[k]).Order()];
        double[] exponents = [.. laws.Select(s => s.ParameterExponent)];
        var lower = Enumerable.Range(0, 5).Select(k => Statistics.Quantile(Column(k), 0.025)).ToArray();
        var upper = Enumerable.Range(0, 5).Select(k => Statistics.Quantile(Column(k), 0.975)).ToArray();
        var se = Enumerable.Range(0, 5).Select(k => Math.Sqrt(Statistics.Variance(Column(k)))).ToArray();
        double[] sortedExp = [.. exponents.Order()];
        return new ScalingLawEstimate(fit, lower, upper, se, Statistics.Quantile(sortedExp, 0.025),
            Statistics.Quantile(sortedExp, 0.975), Math.Sqrt(Statistics.Variance(exponents)), replicates, rows) { Samples = laws };
    }

    /// <summary>The objective at x = (a, α, b, β, e) and its analytic gradient (exposed for checks against finite
    /// differences).</summary>
    public static (double Value, double[] Gradient) Objective(double[] x, double[] n, double[] d, double[] loss,
        double delta = DefaultDelta)
    {
        var problem = new Problem(n, d, loss, delta);
        var v = Vector<double>.Build.DenseOfArray(x);
        return (problem.Value(v), problem.Gradient(v).ToArray());
    }

    private static ScalingLaw ToLaw(double[] x) => new(Math.Exp(x[4]), Math.Exp(x[0]), x[1], Math.Exp(x[2]), x[3]);

    /// <summary>The Huber objective in (a, α, b, β, e) with its gradient.</summary>
    private sealed class Problem(double[] n, double[] d, double[] loss, double delta)
    {
        private readonly double[] logN = [.. n.Select(v => Math.Log(v))];
        private readonly double[] logD = [.. d.Select(v => Math.Log(v))];
        private readonly double[] logL = [.. loss.Select(v => Math.Log(v))];

        /// <summary>Every start minimised (in parallel), best first.</summary>
        public List<(double[] X, double Value)> MinimiseAll(IReadOnlyList<double[]> starts)
        {
            var results = new (double[] X, double Value)[starts.Count];
            Parallel.For(0, starts.Count, i => results[i] = Minimise(starts[i]));
            return [.. results.OrderBy(r => r.Value)];
        }

        public (double[] X, double Value) Minimise(double[] start)
        {
            var objective = ObjectiveFunction.Gradient(Value, Gradient);
            try
            {
                var result = new LimitedMemoryBfgsMinimizer(1e-12, 1e-12, 1e-14, 7, 2000)
                    .FindMinimum(objective, Vector<double>.Build.DenseOfArray(start));
                return (result.MinimizingPoint.ToArray(), result.FunctionInfoAtMinimum.Value);
            }
            catch (Exception e) when (e is MaximumIterationsException or OptimizationException or ArgumentException)
            {
                // A start from which the line search fails counts with the value it started from.
                return (start, Value(Vector<double>.Build.DenseOfArray(start)));
            }
        }

        public double Value(Vector<double> x)
        {
            double sum = 0;
            for (int i = 0; i < logL.Length; i++) sum += Huber(Residual(x, i, out _));
            return sum;
        }

        public Vector<double> Gradient(Vector<double> x)
        {
            var g = new double[5];
            for (int i = 0; i < logL.Length; i++)
            {
                double r = Residual(x, i, out var w);
                double h = Math.Clamp(r, -delta, delta);
                g[0] += h * w.Item1;
                g[1] -= h * w.Item1 * logN[i];
                g[2] += h * w.Item2;
                g[3] -= h * w.Item2 * logD[i];
                g[4] += h * w.Item3;
            }
            return Vector<double>.Build.DenseOfArray(g);
        }

        /// <summary>LSE(a − α log N, b − β log D, e) − log L and the softmax weights of the three terms.</summary>
        private double Residual(Vector<double> x, int i, out (double, double, double) weights)
        {
            double u0 = x[0] - x[1] * logN[i], u1 = x[2] - x[3] * logD[i], u2 = x[4];
            double m = Math.Max(u0, Math.Max(u1, u2));
            double e0 = Math.Exp(u0 - m), e1 = Math.Exp(u1 - m), e2 = Math.Exp(u2 - m);
            double z = e0 + e1 + e2;
            weights = (e0 / z, e1 / z, e2 / z);
            return m + Math.Log(z) - logL[i];
        }

        private double Huber(double r) => Math.Abs(r) <= delta ? 0.5 * r * r : delta * (Math.Abs(r) - 0.5 * delta);
    }
}

using LearningMechanics.Architecture;
using LearningMechanics.Data;
using LearningMechanics.Measurement.Ensembles;
using LearningMechanics.Networks;
using LearningMechanics.Numerics;
using LearningMechanics.Theory.KernelRegime;
using LearningMechanics.Training;

namespace LearningMechanics.Measurement.Observables;

/// <summary>
/// How a divergence learning rate is searched: <see cref="Steps"/> GD steps per trial, the starting bracket
/// [<see cref="Lower"/>, <see cref="Upper"/>]·η_crit, <see cref="Halvings"/> bisections in log η, and the factor by
/// which the loss may exceed its initial value before a trial counts as diverged (<see cref="TrainingOptions.DivergenceFactor"/>).
/// When an end of the bracket is on the wrong side, the bracket is moved by factors of 2, at most
/// <see cref="Expansions"/> times per end, before bisecting.
/// </summary>
public sealed record DivergenceSearch(int Steps, double Lower = 0.5, double Upper = 8, int Halvings = 8,
    double DivergenceFactor = 1e4, int Expansions = 3)
{
    public DivergenceSearch Validated()
    {
        if (Steps < 1) throw new BadInputException($"Steps per trial {Steps} must be ≥ 1.");
        if (!(Lower > 0) || !(Upper > Lower) || !double.IsFinite(Upper))
            throw new BadInputException($"Bracket [{Lower}, {Upper}]·η_crit must satisfy 0 < lower < upper < ∞.");
        if (Halvings < 0 || Halvings > 60) throw new BadInputException($"Halvings {Halvings} must be in 0…60.");
        if (!(DivergenceFactor > 1)) throw new BadInputException($"Divergence factor {DivergenceFactor} must be > 1.");
        if (Expansions < 0) throw new BadInputException($"Expansions {Expansions} must be ≥ 0.");
        return this;
    }
}

/// <summary>
/// A bracket [<see cref="Lower"/>, <see cref="Upper"/>] of a monotone predicate's switch point: stable at Lower, diverged at
/// Upper. <see cref="Bracketed"/> is false when the search could not find both sides; the bracket then collapses onto the
/// end it reached (a censored value: the switch lies below Lower when Lower diverged, above Upper when Upper was stable).
/// </summary>
public readonly record struct LogBracket(double Lower, double Upper, bool Bracketed)
{
    /// <summary>The geometric midpoint √(Lower·Upper), the estimate of the switch point.</summary>
    public double Midpoint => Math.Sqrt(Lower * Upper);

    /// <summary>Relative half-width √(Upper/Lower) − 1: the switch point is the midpoint within a factor (1 + this)^{±1}.</summary>
    public double Resolution => Math.Sqrt(Upper / Lower) - 1;
}

/// <summary>
/// One network's divergence learning rate: its linearised threshold η_crit = N/λ_max(Θ̂₀) (own empirical NTK at
/// initialisation) and the bracket of learning rates (absolute) between its last stable and first diverged trial.
/// </summary>
public sealed record NetworkDivergence(int Net, double CriticalLearningRate, LogBracket Bracket)
{
    /// <summary>η_div/η_crit at the bracket's midpoint.</summary>
    public double Ratio => Bracket.Midpoint / CriticalLearningRate;
}

/// <summary>Per-network divergence learning rates over an ensemble, with the mean ratio η_div/η_crit and its standard error.</summary>
public sealed record DivergenceThresholdResult(IReadOnlyList<NetworkDivergence> Networks)
{
    public double[] Ratios => Networks.Select(r => r.Ratio).ToArray();
    public double MeanRatio => Statistics.Mean(Ratios);
    /// <summary>Standard error of the mean ratio over networks (0 for one network).</summary>
    public double StandardError => Networks.Count > 1 ? Statistics.StandardError(Ratios) : 0;
    /// <summary>The widest relative half-width of the networks' brackets.</summary>
    public double Resolution => Networks.Max(r => r.Bracket.Resolution);
    /// <summary>Networks whose threshold lies outside the searched range (their ratios are bounds, not estimates).</summary>
    public int Censored => Networks.Count(r => !r.Bracket.Bracketed);
}

/// <summary>
/// The learning rate at which full-batch GD on MSE diverges, measured per network by bisection in log η and compared with
/// the linearised threshold η_crit = N/λ_max(Θ̂₀) of the same network (<see cref="CatapultPhase"/> holds the predictions).
/// A trial at η restarts from the network's initial parameters and runs <see cref="DivergenceSearch.Steps"/> GD steps; it
/// counts as <b>diverged</b> when the <see cref="Trainer{T}"/> declares divergence (a non-finite loss or gradient, or a loss
/// above <see cref="DivergenceSearch.DivergenceFactor"/> × the initial loss) or when the final training loss is not below
/// the initial one. A catapult that has not come back below the initial loss within the run therefore counts as diverged:
/// the measured threshold is that of T steps. Bisection assumes the outcome is monotone in η.
/// </summary>
public static class DivergenceThreshold
{
    /// <summary>True when <see cref="DivergenceSearch.Steps"/> GD steps at <paramref name="learningRate"/> from
    /// <paramref name="initial"/> diverge (definition above); leaves the network at the run's end.</summary>
    public static bool Diverges(Network<double> net, ReadOnlySpan<double> initial, Dataset train, double learningRate,
        DivergenceSearch search, CancellationToken cancellation = default)
    {
        initial.CopyTo(net.Parameters);
        var options = new TrainingOptions(new MseLoss(), new OptimizerSettings(OptimizerKind.Gd, learningRate), search.Steps,
            DivergenceFactor: search.DivergenceFactor);
        var result = new Trainer<double>(net, train, options).Run(ct: cancellation);
        cancellation.ThrowIfCancellationRequested();
        return result.Status == TrainingStatus.Diverged || !(result.FinalLoss < result.Losses[0]);
    }

    /// <summary>
    /// Brackets the switch point of a predicate that is false (stable) below it and true (diverged) above: moves the ends by
    /// factors of 2 (at most <paramref name="expansions"/> times each) until lower is stable and upper diverged, then halves
    /// the bracket in log <paramref name="halvings"/> times, so a bracket of ratio R ends at ratio R^(2^−halvings).
    /// </summary>
    public static LogBracket Bisect(Func<double, bool> diverges, double lower, double upper, int halvings, int expansions = 0)
    {
        if (!(lower > 0) || !(upper > lower)) throw new ArgumentException($"Bracket [{lower}, {upper}] must satisfy 0 < lower < upper.");
        bool movedDown = false;
        for (int e = 0; diverges(lower); e++, movedDown = true)
        {
            if (e == expansions) return new LogBracket(lower, lower, false);
            upper = lower; lower /= 2;
        }
        for (int e = 0; !movedDown && !diverges(upper); e++)
        {
            if (e == expansions) return new LogBracket(upper, upper, false);
            lower = upper; upper *= 2;
        }
        for (int i = 0; i < halvings; i++)
        {
            double mid = Math.Sqrt(lower * upper);
            if (diverges(mid)) upper = mid; else lower = mid;
        }
        return new LogBracket(lower, upper, true);
    }

    /// <summary>
    /// One network's divergence learning rate, given its NTK <paramref name="theta0"/> on the training inputs at its current
    /// (initial) parameters; the network is left at those parameters.
    /// </summary>
    public static NetworkDivergence Measure(Network<double> net, Dataset train, Matrix theta0, DivergenceSearch search,
        int index = 0, CancellationToken cancellation = default)
    {
        search.Validated();
        double etaCrit = new KernelDynamics(theta0).MaxStableLearningRate;
        var initial = (double[])net.Parameters.Clone();
        var bracket = Bisect(lr => Diverges(net, initial, train, lr, search, cancellation),
            search.Lower * etaCrit, search.Upper * etaCrit, search.Halvings, search.Expansions);
        initial.CopyTo(net.Parameters, 0);
        return new NetworkDivergence(index, etaCrit, bracket);
    }

    /// <summary>
    /// Measures <paramref name="nets"/> networks of <paramref name="spec"/> (network i from <c>root.Split(i, stream)</c>, in
    /// parallel, OpenBLAS single-threaded; <see cref="NtkEnsemble"/>), each against its own η_crit.
    /// </summary>
    public static DivergenceThresholdResult Ensemble(NetworkSpec spec, Dataset train, int nets, Rng root, ulong stream,
        DivergenceSearch search, IProgress<ProgressInfo>? progress = null, CancellationToken cancellation = default)
    {
        if (nets < 1) throw new BadInputException($"Number of networks {nets} must be ≥ 1.");
        search.Validated();
        var results = new NetworkDivergence[nets];
        long done = 0;
        NtkEnsemble.Run(spec, train.X, nets, root, stream, "divergence learning rate", ref done, nets,
            (i, net, theta) => results[i] = Measure(net, train, theta, search, i, cancellation), progress, cancellation);
        return new DivergenceThresholdResult(results);
    }
}

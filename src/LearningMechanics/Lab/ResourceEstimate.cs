namespace LearningMechanics.Lab;

/// <summary>
/// What a run with given settings needs, as order-of-magnitude counts (not timings): <paramref name="Flops"/> floating-point
/// operations, and <paramref name="Bytes"/> the peak memory the run holds at once (its largest arrays alive together:
/// kernel matrices, data sets, ensembles of draws, per-thread networks). The runner refuses runs beyond
/// <see cref="Runner.MaxFlops"/> or <see cref="Runner.MaxBytes"/> unless forced.
/// </summary>
public readonly record struct ResourceEstimate(double Flops, double Bytes);

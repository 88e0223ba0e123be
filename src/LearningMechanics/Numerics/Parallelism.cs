namespace LearningMechanics.Numerics;

/// <summary>
/// Options for the parallel loops over networks, rows or draws: at most one worker per core. Each worker allocates its
/// own buffers (a network, a workspace), so an unbounded thread pool that keeps adding threads on a loaded machine would
/// multiply the memory; results do not depend on the number of workers, since every item draws from its own stream.
/// </summary>
public static class Parallelism
{
    public static ParallelOptions Options(CancellationToken cancellation) =>
        new() { CancellationToken = cancellation, MaxDegreeOfParallelism = Environment.ProcessorCount };
}

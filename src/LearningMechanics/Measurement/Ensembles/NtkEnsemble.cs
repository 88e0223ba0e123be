using LearningMechanics.Architecture;
using LearningMechanics.Measurement.Observables;
using LearningMechanics.Networks;
using LearningMechanics.Numerics;

namespace LearningMechanics.Measurement.Ensembles;

/// <summary>
/// An ensemble of random networks of one architecture, each drawn from its own split stream and measured through its
/// empirical NTK on fixed inputs: one network per core with OpenBLAS single-threaded, buffers allocated once per thread.
/// </summary>
public static class NtkEnsemble
{
    /// <summary>
    /// Draws <paramref name="nets"/> networks (network i from <c>root.Split(i, stream)</c>) and calls
    /// <paramref name="record"/>(i, network, Θ̂ on the rows of <paramref name="x"/>) for each, in parallel.
    /// </summary>
    public static void Run(NetworkSpec spec, Matrix x, int nets, Rng root, ulong stream, string stage,
        ref long done, long total, Action<int, Network<double>, Matrix> record, IProgress<ProgressInfo>? progress = null,
        CancellationToken cancellation = default)
    {
        long counter = done;
        Blas.SingleThreaded(() => Parallel.For(0, nets, Parallelism.Options(cancellation),
            () => { var net = new Network<double>(spec, x.Cols); return (Net: net, Ntk: new EmpiricalNtk(net, x.Rows)); },
            (i, _, local) =>
            {
                local.Net.Initialize(root.Split((ulong)i, stream));
                record(i, local.Net, local.Ntk.Compute(x));
                progress?.Report(new ProgressInfo(stage, Interlocked.Increment(ref counter), total));
                return local;
            }, _ => { }));
        done = counter;
    }
}

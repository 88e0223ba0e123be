namespace LearningMechanics.Architecture;

/// <summary>
/// Collects a network's kernel steps while its layers add them in order (<see cref="Layer.AddKernelSteps"/>), with what
/// the infinite-width limit needs checked on the way: activations act on Gaussian preactivations, residual blocks keep
/// the width, and φ′ exists when the NTK is asked for.
/// </summary>
internal sealed class KernelBuilder(NetworkSpec spec, int inputDim, bool ntk)
{
    public NetworkSpec Spec { get; } = spec;
    /// <summary>Whether the NTK is computed (else the NNGP only).</summary>
    public bool Ntk { get; } = ntk;
    public List<KernelStep> Steps { get; } = [];
    /// <summary>Indices of the steps whose output is a top-level Dense layer's preactivation.</summary>
    public List<int> DenseOutputs { get; } = [];
    /// <summary>Current feature width.</summary>
    public int Width { get; set; } = inputDim;
    /// <summary>True when the current features are Gaussian at infinite width (a Dense layer's output).</summary>
    public bool Gaussian { get; set; }
    /// <summary>Residual nesting depth now, and the deepest so far (the size of the entry stack).</summary>
    public int Nesting { get; set; }
    public int MaxNesting { get; private set; }

    public void Add(KernelStep step) => Steps.Add(step);

    public void AddLayers(IEnumerable<Layer> layers)
    {
        MaxNesting = Math.Max(MaxNesting, Nesting);
        foreach (var layer in layers) layer.AddKernelSteps(this);
    }
}

using System.Numerics;

namespace LearningMechanics.Architecture;

/// <summary>
/// Collects a finite network's operations while its layers add them in order (<see cref="Layer.AddFiniteOps{T}"/>):
/// the ops, the width of every buffer, and the Dense layers whose parameter tensors the network lays out.
/// </summary>
internal sealed class FiniteBuilder<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public List<FiniteOp<T>> Ops { get; } = [];
    /// <summary>Widths of the buffers so far (Dims[0] = input width).</summary>
    public List<int> Dims { get; } = [];
    /// <summary>Dense layers in order, with their fan-in and whether they sit at the top level (not inside a residual block).</summary>
    public List<(Dense Layer, int FanIn, bool TopLevel)> DenseLayers { get; } = [];
    /// <summary>False while the layers of a residual block are being added.</summary>
    public bool TopLevel { get; set; } = true;

    /// <summary>The first activation without a derivative (step, sign), if any: the network runs forward but cannot be
    /// differentiated.</summary>
    public string? NonDifferentiable { get; set; }

    public FiniteBuilder(int inputDim) => Dims.Add(inputDim);

    /// <summary>Width of the last buffer (the input of the next op).</summary>
    public int Width => Dims[^1];

    public void Add(FiniteOp<T> op, int outputWidth)
    {
        Ops.Add(op);
        Dims.Add(outputWidth);
    }

    public void AddLayers(IEnumerable<Layer> layers)
    {
        foreach (var layer in layers) layer.AddFiniteOps(this);
    }
}

using System.Numerics;

namespace LearningMechanics.Architecture;

/// <summary>
/// One operation of a finite network on a batch (rows = samples): it reads buffer k of a <see cref="LayerBuffers{T}"/>
/// and writes buffer k + 1. <see cref="Backward"/> turns ∂loss/∂(buffer k + 1) into ∂loss/∂(buffer k) and the parameter
/// gradients; <see cref="RForward"/> and <see cref="RBackward"/> are Pearlmutter's (1994) R-operator, which gives exact
/// Hessian-vector products. Each layer type's file holds its own operations.
/// </summary>
internal abstract class FiniteOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public abstract void Forward(LayerBuffers<T> b, int k);

    /// <param name="grad">∂loss/∂(stored parameters), written for the op's own tensors; empty to skip them.</param>
    /// <param name="needInput">whether ∂loss/∂(buffer k) is needed (false for the first op unless asked for).</param>
    public abstract void Backward(LayerBuffers<T> b, int k, Span<T> grad, bool needInput);

    /// <summary>R{buffer k + 1} from R{buffer k} along the parameter direction <paramref name="v"/>.</summary>
    public abstract void RForward(LayerBuffers<T> b, int k, ReadOnlySpan<T> v);

    /// <summary>R{∂loss/∂buffer k} from R{∂loss/∂buffer k + 1}; the op's own tensors' rows of H·v go to <paramref
    /// name="hv"/>.</summary>
    public abstract void RBackward(LayerBuffers<T> b, int k, ReadOnlySpan<T> v, Span<T> hv, bool needInput);

    /// <summary>True when the op's output buffer is its input buffer (the start of a residual block).</summary>
    public virtual bool PassesThrough => false;

    /// <summary>Numbers per sample the op keeps between passes (LayerNorm: its scale and the scale's R-derivative).</summary>
    public virtual int RowStatistics => 0;
}

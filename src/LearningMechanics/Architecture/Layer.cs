using System.Numerics;

namespace LearningMechanics.Architecture;

/// <summary>
/// One layer of an architecture description. A layer type holds, in its own file, its description (record fields and
/// text form), its finite operation (forward, backward and R-operator passes, float and double) and its step of the
/// infinite-width kernel recursion, so a network and its kernels come from one place (one description, several
/// semantics; see the README's "Architecture" section). A new layer type is one such file plus its name in <see cref="LayerSyntax"/>.
/// </summary>
public abstract record Layer
{
    /// <summary>The layer in the text form of <see cref="NetworkSpec.Parse"/>.</summary>
    public abstract string ToText();

    /// <summary>Adds the layer's finite operations (checking that the layer fits the current width).</summary>
    internal abstract void AddFiniteOps<T>(FiniteBuilder<T> b) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>Adds the layer's kernel steps (checking that its infinite-width limit is defined).</summary>
    internal abstract void AddKernelSteps(KernelBuilder b);
}

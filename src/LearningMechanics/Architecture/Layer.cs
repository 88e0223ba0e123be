using System.Globalization;

namespace LearningMechanics.Architecture;

/// <summary>One layer of an architecture description (DESIGN.md "one description, several semantics").</summary>
public abstract record Layer
{
    /// <summary>The layer in the text form of <see cref="NetworkSpec.Parse"/>.</summary>
    public abstract string ToText();
}

/// <summary>
/// A fully connected layer of <see cref="Width"/> units, fan-in normalised: z = (σ_w/√fan_in)·W·h + σ_b·b with stored
/// W, b ~ N(0, 1) in NTK parameterisation. σ_w², σ_b² default to the network's values when null.
/// </summary>
public sealed record Dense(int Width, double? Sw2 = null, double? Sb2 = null) : Layer
{
    public override string ToText()
    {
        var args = new List<string> { Width.ToString(CultureInfo.InvariantCulture) };
        if (Sw2 is { } w) args.Add(FormattableString.Invariant($"sw2={w}"));
        if (Sb2 is { } b) args.Add(FormattableString.Invariant($"sb2={b}"));
        return $"dense({string.Join(",", args)})";
    }
}

/// <summary>A pointwise nonlinearity.</summary>
public sealed record ActivationLayer(Activation Activation) : Layer
{
    public override string ToText() => Activation.Name;
}

/// <summary>
/// A residual connection h ↦ γ·h + s·block(h) (seed 002 §7; seed 004 App. B eq. B.3 with ξ = s; claims.md §2.2), the
/// identity scale γ = 1 unless given. The block must end with a Dense layer, so its output has zero mean and is
/// uncorrelated with h at initialisation (then K′ = γ²K + s²·K_block, Θ′ = γ²Θ + s²·Θ_block).
/// </summary>
public sealed record Residual(IReadOnlyList<Layer> Block, double BranchScale, double IdentityScale = 1) : Layer
{
    public override string ToText() => IdentityScale == 1
        ? FormattableString.Invariant($"res({string.Join("-", Block.Select(l => l.ToText()))},{BranchScale})")
        : FormattableString.Invariant($"res({string.Join("-", Block.Select(l => l.ToText()))},{BranchScale},{IdentityScale})");
}

/// <summary>Per-sample normalisation over features: h ↦ (h − mean(h))/std(h).</summary>
public sealed record LayerNorm : Layer
{
    public override string ToText() => "layernorm";
}

namespace LearningMechanics.Architecture;

/// <summary>
/// How a fully connected network is initialised, as the infinite- and finite-width theory sees it: the activation φ, the
/// weight variance C_W = σ_w² (per fan-in) and the bias variance C_b = σ_b² (Roberts &amp; Yaida 2022, eq. 2.19). The
/// theory's APIs (criticality, the four-point vertex, NTK fluctuations, the finite-width posterior) take this one record
/// instead of loose numbers; <see cref="MlpSpec.Initialization"/> gives it for a network description.
/// </summary>
public sealed record Initialization(Activation Activation, double Sw2, double Sb2)
{
    /// <summary>Throws <see cref="BadInputException"/> naming the first invalid field.</summary>
    public Initialization Validated()
    {
        if (!(Sw2 > 0) || !double.IsFinite(Sw2)) throw new BadInputException($"σ_w² = {Sw2} must be a positive finite number.");
        if (!(Sb2 >= 0) || !double.IsFinite(Sb2)) throw new BadInputException($"σ_b² = {Sb2} must be a non-negative finite number.");
        return this;
    }
}

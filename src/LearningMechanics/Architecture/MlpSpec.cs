namespace LearningMechanics.Architecture;

/// <summary>
/// A fully connected network: <see cref="Depth"/> hidden layers of <see cref="Width"/> units with activation φ and a
/// linear readout of <see cref="OutputDim"/> units, in NTK parameterisation with weight variance σ_w²/fan_in and
/// bias variance σ_b² (Roberts &amp; Yaida 2022, §2.3, eq. 2.19; Lee et al. 2018). The same description drives the finite network
/// (<c>Networks.Mlp</c>) and its infinite-width kernel (<c>Theory.Kernels.Nngp</c>), so a claim can never compare a
/// network with the kernel of a different network.
/// </summary>
public sealed record MlpSpec(int InputDim, int Width, int Depth, Activation Activation, double Sw2, double Sb2, int OutputDim = 1)
{
    /// <summary>Throws <see cref="BadInputException"/> naming the first invalid field.</summary>
    public MlpSpec Validated()
    {
        if (InputDim < 1) throw new BadInputException($"Input dimension {InputDim} must be ≥ 1.");
        if (Width < 1) throw new BadInputException($"Width {Width} must be a positive integer.");
        if (Depth < 1) throw new BadInputException($"Depth {Depth} must be a positive integer (number of hidden layers).");
        if (OutputDim < 1) throw new BadInputException($"Output dimension {OutputDim} must be ≥ 1.");
        if (!(Sw2 > 0) || !double.IsFinite(Sw2)) throw new BadInputException($"σ_w² = {Sw2} must be a positive finite number.");
        if (!(Sb2 >= 0) || !double.IsFinite(Sb2)) throw new BadInputException($"σ_b² = {Sb2} must be a non-negative finite number.");
        return this;
    }

    /// <summary>The same network in the general description: [Dense(n), φ] × Depth, Dense(OutputDim), NTK parameterisation.</summary>
    public NetworkSpec ToNetworkSpec()
    {
        var layers = new List<Layer>();
        for (int l = 0; l < Depth; l++) { layers.Add(new Dense(Width)); layers.Add(new ActivationLayer(Activation)); }
        layers.Add(new Dense(OutputDim));
        return new NetworkSpec(layers, Parameterization.Ntk, Sw2, Sb2);
    }

    /// <summary>The initialisation (φ, σ_w², σ_b²) the theory's APIs take.</summary>
    public Initialization Initialization => new(Activation, Sw2, Sb2);

    /// <summary>Fan-in of layer l (0-based, the readout is layer <see cref="Depth"/>).</summary>
    public int FanIn(int layer) => layer == 0 ? InputDim : Width;

    /// <summary>Fan-out of layer l.</summary>
    public int FanOut(int layer) => layer == Depth ? OutputDim : Width;
}

using LearningMechanics.Architecture;
using LearningMechanics.Data;
using LearningMechanics.Networks;
using LearningMechanics.Numerics;
using LearningMechanics.Training;

namespace LearningMechanics.Tests.Training;

/// <summary>μP with a base width (Yang et al. 2022, Table 3 in width multipliers) and the abc symmetry between μP forms.</summary>
public class MuPBaseWidthTests
{
    private static readonly ParameterRole[] Roles =
    [
        ParameterRole.InputWeight, ParameterRole.HiddenWeight, ParameterRole.ReadoutWeight, ParameterRole.HiddenBias,
        ParameterRole.ReadoutBias,
    ];

    [Fact]
    public void AtTheBaseWidthMuPIsSp()
    {
        foreach (var role in Roles)
            Assert.Equal(ParameterRule.For(Parameterization.Standard, role, 96, 96, 2, 0.1),
                ParameterRule.For(Parameterization.MuP, role, 96, 96, 2, 0.1, baseWidth: 96));
    }

    /// <remarks>
    /// Table 3 of Tensor Programs V, as effective quantities relative to SP at width multiplier m = n/n₀: initial variance
    /// of the weight the forward pass uses ((multiplier·std)²), SGD step on it (multiplier²·factor) and Adam step on it
    /// (multiplier·factor, Adam being scale-free). Input weights and biases: 1, m, 1; hidden weights: 1, 1, 1/m; readout
    /// weights: 1/m, 1/m, 1/m; readout bias: 1, 1, 1.
    /// </remarks>
    [Theory]
    [InlineData(4.0)]
    [InlineData(0.25)]
    public void AwayFromTheBaseWidthMuPFollowsTable3(double m)
    {
        const int n0 = 64;
        int n = (int)(n0 * m);
        (double Var, double Sgd, double Adam) Effective(ParameterRule r) => (Math.Pow(r.Multiplier * r.InitStd, 2),
            r.Multiplier * r.Multiplier * r.SgdFactor, r.Multiplier * r.AdamFactor);
        var expected = new Dictionary<ParameterRole, (double, double, double)>
        {
            [ParameterRole.InputWeight] = (1, m, 1), [ParameterRole.HiddenWeight] = (1, 1, 1 / m),
            [ParameterRole.ReadoutWeight] = (1 / m, 1 / m, 1 / m), [ParameterRole.HiddenBias] = (1, m, 1),
            [ParameterRole.ReadoutBias] = (1, 1, 1),
        };
        foreach (var role in Roles)
        {
            int fanIn = role is ParameterRole.InputWeight ? 20 : n;
            var sp = Effective(ParameterRule.For(Parameterization.Standard, role, fanIn, n, 2, 0.3));
            var mu = Effective(ParameterRule.For(Parameterization.MuP, role, fanIn, n, 2, 0.3, baseWidth: n0));
            var (v, s, a) = expected[role];
            Assert.Equal(v, mu.Var / sp.Var, 12);
            Assert.Equal(s, mu.Sgd / sp.Sgd, 12);
            Assert.Equal(a, mu.Adam / sp.Adam, 12);
        }
    }

    private static Dataset Data() => Teacher.Label(Synthetic.Sphere(64, 12, new Rng(3)), "dense(16)-tanh-dense(1)", new Rng(4));

    private static double[] Trajectory(NetworkSpec spec, OptimizerSettings opt, Dataset data, Matrix probe)
    {
        var net = new Network<double>(spec, data.InputDim);
        net.Initialize(new Rng(9));
        var outputs = new List<double>();
        new Trainer<double>(net, data, new TrainingOptions(new MseLoss(), opt, 15, 16, Seed: 5))
            .Run(_ => outputs.AddRange(Trainer<double>.Predict(net, probe).Data));
        outputs.AddRange(Trainer<double>.Predict(net, probe).Data);
        return [.. outputs];
    }

    [Theory]
    [InlineData(OptimizerKind.Sgd)]
    [InlineData(OptimizerKind.Momentum)]
    [InlineData(OptimizerKind.Adam)]
    public void AtTheBaseWidthMuPTrainsExactlyAsSpAndElsewhereItDoesNot(OptimizerKind kind)
    {
        var data = Data();
        var opt = new OptimizerSettings(kind, kind == OptimizerKind.Adam ? 0.003 : 0.05);
        const string arch = "dense(48)-relu-dense(48)-relu-dense(1)";
        var sp = Trajectory(NetworkSpec.Parse(arch, Parameterization.Standard, 2, 0.1), opt, data, data.X);
        var mu = Trajectory(NetworkSpec.Parse(arch, Parameterization.MuP, 2, 0.1) with { BaseWidth = 48 }, opt, data, data.X);
        Assert.Equal(sp, mu);
        var other = Trajectory(NetworkSpec.Parse(arch, Parameterization.MuP, 2, 0.1) with { BaseWidth = 12 }, opt, data, data.X);
        Assert.NotEqual(sp[^1], other[^1]);
    }

    /// <remarks>
    /// The abc symmetry (Yang &amp; Hu 2021, §3): mup's form and the mean-field form differ by θ = ½ (a → a + θ, b → b − θ,
    /// c → c − 2θ) and, at σ_w² = σ_b² = 1, are the same network with the same effective learning rates, so their function
    /// trajectories agree to rounding. Adam is scale-free only without ε, so ε is set negligible here.
    /// </remarks>
    [Theory]
    [InlineData(OptimizerKind.Sgd)]
    [InlineData(OptimizerKind.Adam)]
    public void TwoAbcFormsOfMuPGiveTheSameFunctionTrajectory(OptimizerKind kind)
    {
        var data = Data();
        var opt = new OptimizerSettings(kind, kind == OptimizerKind.Adam ? 0.003 : 0.05, Epsilon: 1e-300);
        const string arch = "dense(40)-relu-dense(40)-relu-dense(1)";
        var mup = Trajectory(NetworkSpec.Parse(arch, Parameterization.MuP, 1, 1), opt, data, data.X);
        var mf = Trajectory(NetworkSpec.Parse(arch, Parameterization.MeanField, 1, 1), opt, data, data.X);
        double scale = mup.Max(Math.Abs);
        for (int i = 0; i < mup.Length; i++) Assert.True(Math.Abs(mup[i] - mf[i]) <= 1e-10 * scale, $"output {i}: {mup[i]} vs {mf[i]}");
        Assert.True(Math.Abs(mup[^1] - mup[data.Count - 1]) > 1e-3 * scale, "the network did not move: the test would be empty");
    }

    /// <remarks>
    /// With Adam's ε scaled per layer like the stored gradients (<see cref="ParameterRule.AdamEpsilonFactor"/>, Everett et al.
    /// 2024), the two abc forms stay the same network for any ε: here ε = 10⁻³ (comparable to the gradients), where a global
    /// ε makes them diverge (the negative control).
    /// </remarks>
    [Fact]
    public void PerLayerEpsilonKeepsTheAbcSymmetryOfAdam()
    {
        var data = Data();
        const string arch = "dense(40)-relu-dense(40)-relu-dense(1)";
        double[] Run(Parameterization p, bool perLayer) => Trajectory(NetworkSpec.Parse(arch, p, 1, 1),
            new OptimizerSettings(OptimizerKind.Adam, 0.003, Epsilon: 1e-3, PerLayerEpsilon: perLayer), data, data.X);
        var mup = Run(Parameterization.MuP, true);
        var mf = Run(Parameterization.MeanField, true);
        double scale = mup.Max(Math.Abs);
        for (int i = 0; i < mup.Length; i++) Assert.True(Math.Abs(mup[i] - mf[i]) <= 1e-10 * scale, $"output {i}: {mup[i]} vs {mf[i]}");
        var mupGlobal = Run(Parameterization.MuP, false);
        var mfGlobal = Run(Parameterization.MeanField, false);
        Assert.True(mupGlobal.Zip(mfGlobal).Max(t => Math.Abs(t.First - t.Second)) > 1e-4 * scale,
            "with one global ε the forms must differ, else ε does not matter here and the test is empty");
    }

    /// <summary>At the base width the per-layer ε of μP is SP's, so μP still trains exactly as SP there.</summary>
    [Fact]
    public void PerLayerEpsilonOfMuPAtTheBaseWidthIsSp()
    {
        var data = Data();
        const string arch = "dense(48)-relu-dense(48)-relu-dense(1)";
        var opt = new OptimizerSettings(OptimizerKind.Adam, 0.003, Epsilon: 1e-3, PerLayerEpsilon: true);
        var sp = Trajectory(NetworkSpec.Parse(arch, Parameterization.Standard, 2, 0.1), opt, data, data.X);
        var mu = Trajectory(NetworkSpec.Parse(arch, Parameterization.MuP, 2, 0.1) with { BaseWidth = 48 }, opt, data, data.X);
        Assert.Equal(sp, mu);
    }

    [Fact]
    public void ABaseWidthOutsideMuPIsRejected()
    {
        var e = Assert.Throws<BadInputException>(() => NetworkSpec.Parse("dense(8)-relu-dense(1)", Parameterization.Standard)
            with { BaseWidth = 8 });
        Assert.Contains("μP only", e.Message);
        Assert.Throws<BadInputException>(() => NetworkSpec.Parse("dense(8)-relu-dense(1)", Parameterization.MuP) with { BaseWidth = 0 });
    }
}

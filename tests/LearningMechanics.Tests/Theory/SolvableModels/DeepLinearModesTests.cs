using LearningMechanics.Theory.SolvableModels;

namespace LearningMechanics.Tests.Theory.SolvableModels;

/// <summary>
/// The mode dynamics of deep linear networks (Saxe et al. 2014) against independent routes: the closed form against a
/// Runge–Kutta integration of τu̇ = D·u^{2−2/D}(s − u), the quadrature of the half-time against the closed form at D = 2,
/// and gradient descent's recursion converging to the flow at first order in η.
/// </summary>
public class DeepLinearModesTests
{
    /// <summary>Classical RK4 of du/dt = D·u^{2−2/D}(s − u) from u₀ to time t with the given number of steps.</summary>
    private static double Rk4(int depth, double s, double u0, double t, int steps)
    {
        double h = t / steps, u = u0;
        for (int k = 0; k < steps; k++)
        {
            double k1 = DeepLinearModes.Rate(depth, s, u);
            double k2 = DeepLinearModes.Rate(depth, s, u + 0.5 * h * k1);
            double k3 = DeepLinearModes.Rate(depth, s, u + 0.5 * h * k2);
            double k4 = DeepLinearModes.Rate(depth, s, u + h * k3);
            u += h / 6 * (k1 + 2 * k2 + 2 * k3 + k4);
        }
        return u;
    }

    [Theory]
    [InlineData(2, 4.0, 1e-3)]
    [InlineData(2, 0.5, 1e-4)]
    [InlineData(3, 1.0, 1e-2)]
    [InlineData(4, 2.0, 1e-3)]
    [InlineData(6, 1.0, 1e-2)]
    public void StrengthFollowsTheFlow(int depth, double s, double u0)
    {
        double half = DeepLinearModes.HalfTime(depth, s, u0);
        foreach (double f in new[] { 0.3, 0.9, 1.0, 1.4, 2.5 })
        {
            double t = f * half;
            Assert.Equal(Rk4(depth, s, u0, t, 200_000), DeepLinearModes.Strength(depth, s, u0, t), 1e-8 * s);
        }
        Assert.Equal(s / 2, DeepLinearModes.Strength(depth, s, u0, half), 1e-9 * s);
    }

    [Theory]
    [InlineData(4.0, 1e-3)]
    [InlineData(0.5, 3e-5)]
    [InlineData(1.0, 0.2)]
    public void QuadratureReproducesTheTwoLayerHalfTime(double s, double u0)
    {
        double closed = DeepLinearModes.TwoLayerHalfTime(s, u0);
        Assert.Equal(Math.Log(s / u0 - 1) / (2 * s), closed, 1e-14);
        Assert.Equal(closed, DeepLinearModes.HalfTime(2, s, u0), 1e-11 * closed);
        Assert.Equal(s / 2, DeepLinearModes.TwoLayerStrength(s, u0, closed), 1e-12 * s);
    }

    /// <summary>The plateau's leading term u₀^{−(1−2/D)}/(s(D − 2)) dominates as u₀ → 0: its ratio to the exact half-time
    /// → 1.</summary>
    [Theory]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(6)]
    public void PlateauApproachesItsPowerLaw(int depth)
    {
        double Ratio(double u0) =>
            Math.Pow(u0, DeepLinearModes.PlateauExponent(depth)) / (1.0 * (depth - 2)) / DeepLinearModes.HalfTime(depth, 1.0, u0);
        double far = Math.Abs(Ratio(1e-4) - 1), near = Math.Abs(Ratio(1e-10) - 1);
        Assert.True(near < 0.05 && near < far / 10, $"ratio − 1 = {far:G3} at u₀ = 1e-4, {near:G3} at 1e-10");
    }

    /// <summary>Gradient descent's half-time differs from the flow's by O(η): the gap halves when η halves.</summary>
    [Theory]
    [InlineData(2, 4.0, 1e-4)]
    [InlineData(4, 1.0, 1e-3)]
    public void GradientDescentConvergesToTheFlowAtFirstOrder(int depth, double s, double u0)
    {
        double flow = DeepLinearModes.HalfTime(depth, s, u0);
        double gap1 = DeepLinearModes.GdHalfTime(depth, s, u0, 0.004) - flow;
        double gap2 = DeepLinearModes.GdHalfTime(depth, s, u0, 0.002) - flow;
        Assert.InRange(gap1 / gap2, 1.9, 2.1);
    }

    [Fact]
    public void BadModesAreRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => DeepLinearModes.TwoLayerStrength(1, 2, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => DeepLinearModes.HalfTime(1, 1, 0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => DeepLinearModes.Time(3, 1, 0.1, 1.2));
    }
}

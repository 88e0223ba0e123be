using LearningMechanics.Architecture;
using LearningMechanics.Measurement.Observables;
using LearningMechanics.Networks;
using LearningMechanics.Numerics;
using LearningMechanics.Theory.Kernels;

namespace LearningMechanics.Tests.Measurement.Observables;

public class EmpiricalNtkTests
{
    [Theory]
    [InlineData("dense(6)-tanh-dense(6)-tanh-dense(1)", "ntk", 0.3, 0)]
    [InlineData("dense(6)-erf-dense(6)-erf-dense(1)", "ntk", 0.0, 0)]
    [InlineData("dense(6)-relu-dense(6)-relu-dense(1)", "ntk", 0.2, 0)]
    [InlineData("dense(5)-res(tanh-dense(5),0.5)-layernorm-gelu-dense(2)", "sp", 0.2, 1)]
    [InlineData("dense(5)-silu-dense(5)-dense(3)", "mup", 0.1, 2)]
    public void ContractionRouteEqualsTheFiniteDifferenceJacobian(string arch, string param, double sb2, int output)
    {
        var net = new Network<double>(NetworkSpec.Parse(arch, ParameterizationNames.Parse(param), 1.7, sb2), 3);
        net.Initialize(new Rng(5));
        var x = Matrix.FromRows([[0.5, -1.0, 0.3], [1.2, 0.4, -0.7], [-0.2, 0.9, 0.8]]);
        var theta = new EmpiricalNtk(net, 3).Compute(x, output);
        // Jacobian by central differences over every stored parameter.
        var ws = net.CreateWorkspace(3);
        var rows = new List<double[]>();
        const double eps = 1e-6;
        var p = net.Parameters;
        for (int k = 0; k < p.Length; k++)
        {
            double keep = p[k];
            p[k] = keep + eps; var plus = net.Forward(x.Data, ws).ToArray();
            p[k] = keep - eps; var minus = net.Forward(x.Data, ws).ToArray();
            p[k] = keep;
            rows.Add([.. Enumerable.Range(0, 3)
                .Select(i => (plus[i * net.OutputDim + output] - minus[i * net.OutputDim + output]) / (2 * eps))]);
        }
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
            {
                double fd = rows.Sum(r => r[i] * r[j]);
                Assert.True(Math.Abs(theta[i, j] - fd) <= 1e-6 * Math.Abs(fd) + 1e-8,
                    $"({i},{j}): contraction {theta[i, j]} vs Jacobian {fd}");
            }
    }

    [Fact]
    public void WideNetworkNtkIsCloseToTheInfiniteWidthKernel()
    {
        // One network at width 4096: Θ̂ concentrates on Θ∞ with relative spread O(1/√n) ≈ 2 % here.
        var spec = new MlpSpec(4, 4096, 2, new Relu(), 2, 0.1);
        var net = new Network<double>(spec.ToNetworkSpec(), spec.InputDim);
        net.Initialize(new Rng(1));
        var x = Matrix.FromRows([[1.0, 0.5, -0.3, 0.2], [0.2, -1.0, 0.8, 0.1]]);
        var emp = new EmpiricalNtk(net, 2).Compute(x);
        var (_, inf) = NeuralKernels.Compute(spec.ToNetworkSpec(), x);
        for (int i = 0; i < 4; i++) Assert.InRange(emp.Data[i] / inf!.Data[i], 0.9, 1.1);
    }
}

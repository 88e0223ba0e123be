using LearningMechanics.Architecture;
using LearningMechanics.Data;
using LearningMechanics.Networks;
using LearningMechanics.Numerics;
using LearningMechanics.Training;

namespace LearningMechanics.Measurement.Observables;

/// <summary>
/// The coordinate check of Tensor Programs V (Yang et al. 2022): train the same architecture at
/// several widths for a few steps and record the typical coordinate size of every dense layer's output,
/// RMS(z_t) and RMS(z_t − z_0), on a fixed batch. Under μP every curve is flat in width; under SP the update of the
/// output grows with width (and training blows up at large width for a fixed learning rate).
/// </summary>
public static class CoordinateCheck
{
    public sealed record Row(int Width, int Step, int Layer, double Rms, double ChangeRms);

    /// <param name="archTemplate">architecture text with <c>{n}</c> for the width,
    /// e.g. <c>dense({n})-relu-dense({n})-relu-dense(1)</c>.</param>
    /// <param name="baseWidth">μP's base width n₀ (<see cref="NetworkSpec.BaseWidth"/>), or null.</param>
    /// <param name="zeroReadout">start the readout at zero (μP's recommended option).</param>
    public static List<Row> Run(string archTemplate, IReadOnlyList<int> widths, Parameterization param, Dataset data,
        OptimizerSettings optimizer, int steps, int batch, ulong seed, Loss? loss = null, double sw2 = 2, double sb2 = 0,
        double? baseWidth = null, bool zeroReadout = false)
    {
        if (!archTemplate.Contains("{n}", StringComparison.Ordinal))
            throw new BadInputException($"Architecture template '{archTemplate}' needs a {{n}} placeholder for the width.");
        var rows = new List<Row>();
        var probe = data.Take(Math.Min(64, data.Count)).X;
        foreach (int n in widths)
        {
            string arch = archTemplate.Replace("{n}", n.ToString(System.Globalization.CultureInfo.InvariantCulture));
            var net = new Network<double>(NetworkSpec.Parse(arch, param, sw2, sb2) with { BaseWidth = baseWidth }, data.InputDim,
                zeroReadout);
            net.Initialize(new Rng(seed).Split((ulong)n));
            var initial = Enumerable.Range(0, net.DenseCount)
                .Select(d => Representations.At(net, probe, net.DenseInputIndex(d) + 1)).ToArray();
            void Record(int step)
            {
                for (int d = 0; d < net.DenseCount; d++)
                {
                    var z = Representations.At(net, probe, net.DenseInputIndex(d) + 1);
                    double s = 0;
                    double c = 0;
                    for (int i = 0; i < z.Data.Length; i++)
                    {
                        s += z.Data[i] * z.Data[i];
                        c += Math.Pow(z.Data[i] - initial[d].Data[i], 2);
                    }
                    rows.Add(new Row(n, step, d, Math.Sqrt(s / z.Data.Length), Math.Sqrt(c / z.Data.Length)));
                }
            }
            // The callback sees θ_t before step t's update: steps + 1 steps record θ_0 … θ_steps.
            new Trainer<double>(net, data, new TrainingOptions(loss ?? new MseLoss(), optimizer, steps + 1, batch, Seed: seed))
                .Run(s => Record(s.Step));
        }
        return rows;
    }
}

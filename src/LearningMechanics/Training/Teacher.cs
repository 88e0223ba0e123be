using LearningMechanics.Architecture;
using LearningMechanics.Data;
using LearningMechanics.Networks;
using LearningMechanics.Numerics;

namespace LearningMechanics.Training;

/// <summary>A random teacher network that labels inputs: the controlled regression task of the training experiments.</summary>
public static class Teacher
{
    /// <summary>
    /// Targets from a random teacher network (in NTK parameterisation, fresh weights from <paramref name="rng"/>) plus
    /// Gaussian label noise of standard deviation <paramref name="noise"/>.
    /// </summary>
    public static Dataset Label(Matrix x, string teacherArch, Rng rng, double noise = 0, double sw2 = 1, double sb2 = 0)
    {
        var teacher = new Network<double>(NetworkSpec.Parse(teacherArch, Parameterization.Ntk, sw2, sb2), x.Cols);
        teacher.Initialize(rng.Split(1));
        var y = Trainer<double>.Predict(teacher, x);
        if (noise > 0)
        {
            var eps = rng.Split(2);
            for (int i = 0; i < y.Data.Length; i++) y.Data[i] += noise * eps.NextGaussian();
        }
        return new Dataset(x, y, Name: $"teacher[{teacherArch}]").Validated();
    }
}

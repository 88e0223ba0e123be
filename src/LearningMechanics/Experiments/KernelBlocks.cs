using LearningMechanics.Numerics;

namespace LearningMechanics.Experiments;

/// <summary>A kernel on the stacked inputs [train; test], cut into the blocks kernel regression uses.</summary>
internal static class KernelBlocks
{
    /// <summary>The train×train and test×train blocks of a kernel on [train; test] inputs.</summary>
    public static (Matrix Train, Matrix TestTrain) Split(Matrix theta, int nTrain)
    {
        int nTest = theta.Rows - nTrain;
        var a = new Matrix(nTrain, nTrain);
        var b = new Matrix(nTest, nTrain);
        for (int i = 0; i < nTrain; i++) for (int j = 0; j < nTrain; j++) a[i, j] = theta[i, j];
        for (int i = 0; i < nTest; i++) for (int j = 0; j < nTrain; j++) b[i, j] = theta[nTrain + i, j];
        return (a, b);
    }
}

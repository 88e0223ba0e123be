using System.Diagnostics;
using System.Globalization;
using LearningMechanics.Architecture;
using LearningMechanics.Numerics;
using LearningMechanics.Theory.Kernels;

namespace LearningMechanics.Tests.Theory.Kernels;

/// <summary>
/// A second, independent implementation of the NNGP and NTK recursions in numpy (arc-cosine and arcsine closed forms,
/// tanh by numpy's own Gauss–Hermite rule). Skipped when python3 with numpy is absent, failed instead under CI=true.
/// </summary>
public class NumpyCrossCheckTests
{
    private const string Script = """
import sys, numpy as np
act, depth, sw2, sb2 = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
X = np.array([[float(v) for v in row.split(',')] for row in sys.argv[5].split(';')])
K = sb2 + sw2 * X @ X.T / X.shape[1]
T = K.copy()
t, w = np.polynomial.hermite.hermgauss(150); t = t * np.sqrt(2); w = w / np.sqrt(np.pi)
for _ in range(depth):
    d = np.sqrt(np.diag(K)); c = np.clip(K / np.outer(d, d), -1, 1); np.fill_diagonal(c, 1.0)
    if act == 'relu':
        th = np.arccos(c); E = np.outer(d, d) * (np.sin(th) + (np.pi - th) * np.cos(th)) / (2 * np.pi)
        Ed = (np.pi - th) / (2 * np.pi)
    elif act == 'erf':
        q = np.outer(1 + 2 * np.diag(K), 1 + 2 * np.diag(K))
        E = 2 / np.pi * np.arcsin(np.clip(2 * K / np.sqrt(q), -1, 1))
        Ed = 4 / np.pi / np.sqrt(q - 4 * K ** 2)
    else:
        E = np.empty_like(K); Ed = np.empty_like(K)
        for i in range(len(K)):
            for j in range(len(K)):
                u = d[i] * t[:, None]; v = d[j] * (c[i, j] * t[:, None] + np.sqrt(max(0, 1 - c[i, j] ** 2)) * t[None, :])
                W = w[:, None] * w[None, :]
                E[i, j] = np.sum(W * np.tanh(u) * np.tanh(v))
                Ed[i, j] = np.sum(W * (1 - np.tanh(u) ** 2) * (1 - np.tanh(v) ** 2))
    K = sb2 + sw2 * E
    T = K + sw2 * Ed * T
print(';'.join(','.join(repr(v) for v in row) for row in K) + '|' + ';'.join(','.join(repr(v) for v in row) for row in T))
""";

    /// <summary>The first interpreter on PATH or in /usr/bin that has numpy (Debian's python3-numpy lives in /usr/bin/python3).</summary>
    private static readonly Lazy<string?> Python = new(() =>
        new[] { "python3", "/usr/bin/python3" }.FirstOrDefault(p => RunWith(p, "relu", "1", "1", "0", "1,0") is not null));

    private static string? RunPython(params string[] args) => Python.Value is { } p ? RunWith(p, args) : null;

    private static string? RunWith(string python, params string[] args) => ReferencePeers.RunPython(python, ["-c", Script, .. args]);

    [SkippableTheory]
    [InlineData("relu", 2.0, 0.0)]
    [InlineData("erf", 1.3, 0.05)]
    [InlineData("tanh", 1.1, 0.2)]
    public void NngpAndNtkAgreeWithNumpyImplementation(string act, double sw2, double sb2)
    {
        ReferencePeers.Require(Python.Value is not null, "python3 with numpy is not installed");
        // Inputs on the sphere keep every layer's variance ≲ 1.5, where 128-point Gauss–Hermite reaches 1e-10 for tanh
        // (its accuracy degrades for larger variances: see the README's known limitations).
        var raw = new Matrix(5, 3);
        new Rng(17).FillGaussian(raw.Data);
        var x = LearningMechanics.Data.Inputs.ToSphere(raw);
        string xs = string.Join(';', Enumerable.Range(0, 5)
            .Select(i => string.Join(',', x.Row(i).ToArray().Select(v => v.ToString("R", CultureInfo.InvariantCulture)))));
        var py = RunPython(act, "4", sw2.ToString("R", CultureInfo.InvariantCulture), sb2.ToString("R", CultureInfo.InvariantCulture), xs)!;
        double[][] ParseMatrix(string text) =>
            text.Split(';').Select(r => r.Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray()).ToArray();
        var parts = py.Split('|');
        var (k, theta) = NeuralKernels.Compute(new MlpSpec(3, 1, 4, Activation.Parse(act), sw2, sb2).ToNetworkSpec(), x);
        foreach (var (ours, theirs, name) in new[] { (k, ParseMatrix(parts[0]), "NNGP"), (theta!, ParseMatrix(parts[1]), "NTK") })
            for (int i = 0; i < 5; i++)
                for (int j = 0; j < 5; j++)
                    Assert.True(Math.Abs(ours[i, j] - theirs[i][j]) <= 1e-10 * Math.Abs(theirs[i][j]) + 1e-13,
                        $"{name} ({i},{j}): {ours[i, j]} vs numpy {theirs[i][j]}");
    }

    [SkippableFact]
    public void ReadsArraysWrittenByNumpy()
    {
        ReferencePeers.Require(Python.Value is not null, "python3 with numpy is not installed");
        string dir = Directory.CreateTempSubdirectory("lmech-np-").FullName;
        try
        {
            var psi = new ProcessStartInfo(Python.Value!) { RedirectStandardOutput = true, RedirectStandardError = true };
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add("import numpy as np, sys; a = np.arange(6.0).reshape(2, 3) / 7; d = sys.argv[1]; " +
                "np.save(d + '/c.npy', a); np.save(d + '/f.npy', np.asfortranarray(a)); " +
                "np.save(d + '/s.npy', a.astype('>f4')); np.save(d + '/v.npy', a[0])");
            psi.ArgumentList.Add(dir);
            using (var p = Process.Start(psi)!) { p.WaitForExit(); Assert.Equal(0, p.ExitCode); }
            var expected = Enumerable.Range(0, 6).Select(i => i / 7.0).ToArray();
            Assert.Equal(expected, LearningMechanics.Lab.Storage.Npy.Read(Path.Combine(dir, "c.npy")).Data);
            Assert.Equal(expected, LearningMechanics.Lab.Storage.Npy.Read(Path.Combine(dir, "f.npy")).Data);
            Assert.Equal(expected.Select(v => (double)(float)v), LearningMechanics.Lab.Storage.Npy.Read(Path.Combine(dir, "s.npy")).Data);
            Assert.Equal(expected.Take(3), LearningMechanics.Lab.Storage.Npy.Read(Path.Combine(dir, "v.npy")).Data);
        }
        finally { Directory.Delete(dir, true); }
    }
}

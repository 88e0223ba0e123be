using System.Globalization;
using System.Numerics;
using LearningMechanics.Architecture;
using LearningMechanics.Networks;

namespace LearningMechanics.Lab.Storage;

/// <summary>
/// A network's parameters as safetensors (<c>layers.{i}.weight</c> [fan_out, fan_in], <c>layers.{i}.bias</c>
/// [fan_out], raw stored values before parameterisation multipliers), with the architecture in the metadata.
/// </summary>
public static class NetworkWeights
{
    public static void Save<T>(Network<T> net, string path) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var tensors = net.Tensors.Select(t => (t.Name, t.Shape.Select(s => (long)s).ToArray(),
            (ReadOnlyMemory<double>)net.Parameters.AsSpan(t.Offset, t.Length).ToArray().Select(v => double.CreateTruncating(v)).ToArray()))
            .ToList();
        var meta = new Dictionary<string, string>
        {
            ["arch"] = net.Spec.ToText(),
            ["param"] = net.Spec.Param.ToText(),
            ["sw2"] = net.Spec.Sw2.ToString("R", CultureInfo.InvariantCulture),
            ["sb2"] = net.Spec.Sb2.ToString("R", CultureInfo.InvariantCulture),
            ["input_dim"] = net.InputDim.ToString(CultureInfo.InvariantCulture),
            ["format"] = "lmech",
        };
        SafeTensors.Write(path, tensors, meta, float32: typeof(T) == typeof(float));
    }

    /// <summary>Loads every tensor of the network from <paramref name="path"/>; missing tensors and shape mismatches are named.</summary>
    public static void Load<T>(Network<T> net, string path) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (tensors, _) = SafeTensors.Read(path);
        var byName = tensors.ToDictionary(t => t.Name);
        foreach (var t in net.Tensors)
        {
            if (!byName.TryGetValue(t.Name, out var src))
                throw new BadInputException($"{path}: no tensor '{t.Name}' (the file has: {string.Join(", ", byName.Keys)}).");
            if (!src.Shape.SequenceEqual(t.Shape.Select(s => (long)s)))
                throw new BadInputException($"{path}: tensor '{t.Name}' has shape [{string.Join(",", src.Shape)}]; " +
                    $"the architecture needs [{string.Join(",", t.Shape)}].");
            for (int i = 0; i < t.Length; i++)
            {
                if (!double.IsFinite(src.Data[i]))
                    throw new BadInputException($"{path}: tensor '{t.Name}' holds a non-finite value at index {i}.");
                net.Parameters[t.Offset + i] = T.CreateTruncating(src.Data[i]);
            }
        }
        var extra = byName.Keys.Except(net.Tensors.Select(t => t.Name)).ToList();
        if (extra.Count > 0) throw new BadInputException($"{path}: tensors {string.Join(", ", extra)} do not belong to the architecture.");
    }
}

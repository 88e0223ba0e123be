using LearningMechanics.Architecture;
namespace LearningMechanics.Networks;

/// <summary>
/// One named parameter tensor inside a network's flat parameter vector: <c>layers.{i}.weight</c> [fan_out, fan_in] or
/// <c>layers.{i}.bias</c> [fan_out], i counting Dense layers from 0 in order (the names and
/// shapes of weights files).
/// </summary>
public sealed record ParameterTensor(string Name, int Offset, int[] Shape, int DenseIndex, ParameterRole Role, ParameterRule Rule)
{
    public int Length => Shape.Aggregate(1, (a, b) => a * b);
    public bool IsWeight => Role is ParameterRole.InputWeight or ParameterRole.HiddenWeight or ParameterRole.ReadoutWeight;
}

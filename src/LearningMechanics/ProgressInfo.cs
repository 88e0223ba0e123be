namespace LearningMechanics;

/// <summary>Progress of a long computation: a stage label and the amount done out of the total.</summary>
public readonly record struct ProgressInfo(string Stage, long Done, long Total);

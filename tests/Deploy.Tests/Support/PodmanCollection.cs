namespace Reference.Deploy.Tests.Support;

/// <summary>
/// The podman stack tests run one at a time: they share this checkout's podman socket and service images, and two
/// stacks at once would not fit the machine.
/// </summary>
[CollectionDefinition(Name)]
public sealed class PodmanCollection
{
    public const string Name = "podman";
}

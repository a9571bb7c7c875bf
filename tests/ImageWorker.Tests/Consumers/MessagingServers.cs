using Reference.Tests.Support;

namespace Reference.ImageWorker.Tests.Consumers;

/// <summary>Real RabbitMQ and Redis (the worker needs no database), shared by the consumer tests.</summary>
public sealed class MessagingServers : IAsyncLifetime
{
    public BackingServers Servers { get; } = new();

    public Task InitializeAsync() =>
        Task.WhenAll(Servers.StartAsync(BackingServer.RabbitMq), Servers.StartAsync(BackingServer.Redis));

    public Task DisposeAsync() => Servers.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class MessagingCollection : ICollectionFixture<MessagingServers>
{
    public const string Name = "messaging";
}

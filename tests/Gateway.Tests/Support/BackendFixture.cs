namespace Reference.Gateway.Tests.Support;

/// <summary>One inventory and one upload backend shared by tests that only read from them.</summary>
public sealed class BackendFixture : IAsyncLifetime
{
    public FakeBackend Inventory { get; } = new("inventory-1");
    public FakeBackend Uploads { get; } = new("uploads-1");

    public async Task InitializeAsync()
    {
        await Inventory.StartAsync();
        await Uploads.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await Inventory.DisposeAsync();
        await Uploads.DisposeAsync();
    }
}

using Reference.Tests.Support;
using Xunit.Abstractions;

namespace Reference.AppHost.Tests;

/// <summary>The one-shot database set-up (<c>--migrate</c>) outlasts a MySQL server that is not there yet.</summary>
public sealed class DatabaseSetupTests(BackingServers servers, ITestOutputHelper output) : IClassFixture<BackingServers>
{
    [Fact]
    public async Task The_set_up_waits_for_a_server_that_starts_late_then_finishes()
    {
        await servers.StopAsync(BackingServer.MySql);
        using var setup = DatabaseSetupProcess.Start(servers, "InventoryApi", "inventorydb", "inventoryapi");

        await Task.Delay(TimeSpan.FromSeconds(4));
        Assert.False(setup.HasExited, "the set-up ended while no MySQL server was running");
        await servers.StartAsync(BackingServer.MySql);

        var log = await setup.SucceedsAsync(TimeSpan.FromMinutes(2));
        Assert.Contains("retrying", log, StringComparison.Ordinal);
        Assert.Contains("Migrations of inventorydb applied", log, StringComparison.Ordinal);
        output.WriteLine(string.Join('\n', log.Split('\n').Where(line => line.Contains("MySQL not ready", StringComparison.Ordinal)).Take(3)));
    }
}

using Reference.Tests.Storefront;
using System.Net;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Reference.AppHost.Tests;

[Collection(StorefrontCollection.Name)]
public sealed class CrashRestartTests(StorefrontFixture storefront)
{
    [Fact]
    public async Task A_service_killed_with_sigkill_is_restarted_and_healthy_again()
    {
        var killed = ServiceProcess.KillHard(storefront.App, "imageworker-2");

        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await storefront.App.ResourceNotifications.WaitForResourceAsync("imageworker-2",
            e => e.Snapshot.State?.Text is var s && (s == KnownResourceStates.Finished || s == KnownResourceStates.Exited),
            timeout.Token);
        await storefront.App.ResourceNotifications.WaitForResourceAsync("imageworker-2",
            e => e.Snapshot.State?.Text == KnownResourceStates.Running && e.Snapshot.HealthStatus == Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy,
            timeout.Token);

        Assert.NotEqual(killed, ServiceProcess.Find(storefront.App, "imageworker-2"));
        using var client = storefront.App.CreateHttpClient("imageworker-2", "http");
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health", timeout.Token)).StatusCode);
    }

    [Fact]
    public async Task A_service_stopped_on_purpose_stays_stopped_until_started()
    {
        var commands = storefront.App.Services.GetRequiredService<ResourceCommandService>();
        var notifications = storefront.App.ResourceNotifications;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));

        var stop = await commands.ExecuteCommandAsync("imageworker-1", KnownResourceCommands.StopCommand, timeout.Token);
        Assert.True(stop.Success, $"stop: {stop.Message}");
        await notifications.WaitForResourceAsync("imageworker-1", KnownResourceStates.TerminalStates, timeout.Token);

        // Longer than the restarter's first back-off: a crash would have been restarted by now.
        await Task.Delay(TimeSpan.FromSeconds(5));
        Assert.True(notifications.TryGetCurrentState("imageworker-1", out var stopped), "no state");
        Assert.Contains(stopped.Snapshot.State?.Text, KnownResourceStates.TerminalStates);

        var start = await commands.ExecuteCommandAsync("imageworker-1", KnownResourceCommands.StartCommand, timeout.Token);
        Assert.True(start.Success, $"start: {start.Message}");
        await notifications.WaitForResourceHealthyAsync("imageworker-1", timeout.Token);
    }
}

using Reference.Tests.Storefront;
using System.Net;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;

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
}

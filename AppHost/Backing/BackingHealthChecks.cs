using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using MySqlConnector;
using RabbitMQ.Client;
using StackExchange.Redis;

namespace Reference.AppHost.Backing;

/// <summary>
/// Health checks for the local servers, so services <c>WaitFor</c> a server that answers its
/// protocol, not merely a process that has started.
/// </summary>
internal static class BackingHealthChecks
{
    public static string AddMySql(IDistributedApplicationBuilder builder, IResourceWithConnectionString resource) =>
        Add(builder, resource, async (connectionString, ct) =>
        {
            await using var connection = new MySqlConnection(connectionString);
            await connection.OpenAsync(ct);
            await using var command = new MySqlCommand("SELECT 1", connection);
            await command.ExecuteScalarAsync(ct);
        });

    public static string AddRedis(IDistributedApplicationBuilder builder, IResourceWithConnectionString resource) =>
        Add(builder, resource, async (connectionString, ct) =>
        {
            var options = ConfigurationOptions.Parse(connectionString);
            options.AbortOnConnectFail = true;
            options.ConnectTimeout = 2000;
            await using var redis = await ConnectionMultiplexer.ConnectAsync(options);
            await redis.GetDatabase().PingAsync();
        });

    public static string AddRabbitMq(IDistributedApplicationBuilder builder, IResourceWithConnectionString resource) =>
        Add(builder, resource, async (connectionString, ct) =>
        {
            var factory = new ConnectionFactory { Uri = new Uri(connectionString), RequestedConnectionTimeout = TimeSpan.FromSeconds(2) };
            await using var connection = await factory.CreateConnectionAsync(ct);
        });

    private static string Add(
        IDistributedApplicationBuilder builder, IResourceWithConnectionString resource, Func<string, CancellationToken, Task> probe)
    {
        var key = $"{resource.Name}-answers";
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            key, _ => new ProbeHealthCheck(resource, probe), HealthStatus.Unhealthy, tags: null, timeout: TimeSpan.FromSeconds(5)));
        return key;
    }

    private sealed class ProbeHealthCheck(IResourceWithConnectionString resource, Func<string, CancellationToken, Task> probe) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                var connectionString = await resource.ConnectionStringExpression.GetValueAsync(cancellationToken)
                    ?? throw new InvalidOperationException($"{resource.Name} has no connection string yet.");
                await probe(connectionString, cancellationToken);
                return HealthCheckResult.Healthy();
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                return HealthCheckResult.Unhealthy(e.Message, e);
            }
        }
    }
}

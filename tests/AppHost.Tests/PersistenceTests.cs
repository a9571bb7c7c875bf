using Reference.Tests.Storefront;
using Aspire.Hosting.Testing;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using MySqlConnector;
using StackExchange.Redis;

namespace Reference.AppHost.Tests;

/// <summary>Local mode keeps its data in its own folder: stopping the AppHost loses nothing.</summary>
public sealed class PersistenceTests : IAsyncLifetime
{
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("reference-persist-").FullName;

    [Fact]
    public async Task Rows_in_mysql_and_keys_in_redis_survive_an_apphost_restart()
    {
        var marker = Guid.NewGuid().ToString("N");

        await using (var app = await StartBackingOnlyAsync())
        {
            // As root: the services' own users may not create tables, and their set-up steps are not started here.
            await using var mysql = new MySqlConnection(await app.GetConnectionStringAsync("mysql"));
            await mysql.OpenAsync();
            await new MySqlCommand("CREATE DATABASE persistence_probe", mysql).ExecuteNonQueryAsync();
            await new MySqlCommand("CREATE TABLE persistence_probe.persistence_probe (marker VARCHAR(64) PRIMARY KEY)", mysql).ExecuteNonQueryAsync();
            await new MySqlCommand($"INSERT INTO persistence_probe.persistence_probe VALUES ('{marker}')", mysql).ExecuteNonQueryAsync();

            await using var redis = await ConnectionMultiplexer.ConnectAsync((await app.GetConnectionStringAsync("cache"))!);
            Assert.True(await redis.GetDatabase().StringSetAsync("persistence-probe", marker));
            await app.StopAsync();
        }

        MySqlConnection.ClearAllPools();
        await using (var app = await StartBackingOnlyAsync())
        {
            await using var mysql = new MySqlConnection(await app.GetConnectionStringAsync("mysql"));
            await mysql.OpenAsync();
            Assert.Equal(marker, await new MySqlCommand("SELECT marker FROM persistence_probe.persistence_probe", mysql).ExecuteScalarAsync());

            await using var redis = await ConnectionMultiplexer.ConnectAsync((await app.GetConnectionStringAsync("cache"))!);
            Assert.Equal(marker, (string?)await redis.GetDatabase().StringGetAsync("persistence-probe"));
        }
    }

    private async Task<DistributedApplication> StartBackingOnlyAsync()
    {
        var app = await StorefrontHost.StartAsync(_dataDirectory, "persistence-admin-key-0123456789abcdef", builder =>
        {
            // The services are not needed to prove the servers keep their data.
            foreach (var project in builder.Resources.OfType<ProjectResource>().ToList())
            {
                builder.Resources.Remove(project);
            }
        });
        await StorefrontHost.WaitUntilHealthyAsync(app, ["mysql", "cache"], TimeSpan.FromMinutes(2));
        return app;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }

        return Task.CompletedTask;
    }
}

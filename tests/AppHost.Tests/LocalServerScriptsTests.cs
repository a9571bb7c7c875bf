using MySqlConnector;
using Reference.Tests.Support;

namespace Reference.AppHost.Tests;

/// <summary>The local-mode start scripts, run by the tests' fixture exactly as the AppHost runs them.</summary>
public sealed class LocalServerScriptsTests(BackingServers servers) : IClassFixture<BackingServers>
{
    [Fact]
    public async Task MariaDb_commits_survive_a_restart_and_flush_at_every_commit()
    {
        var connectionString = servers.MySqlConnectionString("scripts_test");
        await using (var connection = new MySqlConnection(connectionString))
        {
            await connection.OpenAsync();
            await Execute(connection, "CREATE TABLE IF NOT EXISTS t (id INT PRIMARY KEY)");
            await Execute(connection, "INSERT INTO t VALUES (42)");
            Assert.Equal("1", (await Scalar(connection, "SELECT @@innodb_flush_log_at_trx_commit"))?.ToString());
        }

        await servers.StopAsync(BackingServer.MySql);
        await servers.StartAsync(BackingServer.MySql);
        MySqlConnection.ClearAllPools();

        await using var reopened = new MySqlConnection(connectionString);
        await reopened.OpenAsync();
        Assert.Equal(42, Convert.ToInt32(await Scalar(reopened, "SELECT id FROM t")));
    }

    private static async Task Execute(MySqlConnection connection, string sql)
    {
        await using var command = new MySqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<object?> Scalar(MySqlConnection connection, string sql)
    {
        await using var command = new MySqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }
}

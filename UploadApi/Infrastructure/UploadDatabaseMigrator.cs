using Microsoft.EntityFrameworkCore;

namespace Reference.UploadApi.Infrastructure;

public static class UploadDatabaseMigrator
{
    private const string LockName = "uploaddb-migrations";

    /// <summary>
    /// Applies the checked-in migrations. Every replica calls this at start-up; a named
    /// server lock makes them take turns, so the second finds nothing left to do instead of
    /// racing the first on the same DDL. Retries while the database is still coming up.
    /// </summary>
    public static async Task MigrateUploadDatabaseAsync(this WebApplication app, CancellationToken cancellationToken = default)
    {
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(UploadDatabaseMigrator));
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var scope = app.Services.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<UploadDbContext>();
                await MigrateUnderLockAsync(db, cancellationToken);
                return;
            }
            catch (Exception e) when (attempt < 30 && e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Migrating uploaddb failed (attempt {Attempt}); retrying", attempt);
                await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
            }
        }
    }

    private static async Task MigrateUnderLockAsync(UploadDbContext db, CancellationToken cancellationToken)
    {
        // GET_LOCK belongs to the session, so the connection stays open from lock to release.
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            var connection = db.Database.GetDbConnection();
            await using (var take = connection.CreateCommand())
            {
                take.CommandText = $"SELECT GET_LOCK('{LockName}', 120)";
                if (Convert.ToInt32(await take.ExecuteScalarAsync(cancellationToken)) != 1)
                {
                    throw new TimeoutException("Another replica held the migration lock for two minutes.");
                }
            }

            try
            {
                await db.Database.MigrateAsync(cancellationToken);
            }
            finally
            {
                await using var release = connection.CreateCommand();
                release.CommandText = $"SELECT RELEASE_LOCK('{LockName}')";
                await release.ExecuteScalarAsync(CancellationToken.None);
            }
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }
}

// Checkpoint integrity: every file is checksummed; a corrupted or truncated file is named on load, the newest intact
// checkpoint is used instead, and leftovers of a killed save are cleaned up and never loaded.
using LightGlm.Model;
using LightGlm.Tests.Model;
using LightGlm.Training;

namespace LightGlm.Tests.Training;

public sealed class CheckpointIntegrityTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "lightglm-ckint-" + Guid.NewGuid().ToString("N"));
    public void Dispose() { try { Directory.Delete(_dir, true); } catch { } }

    static Trainer NewTrainer()
    {
        var c = TinyModels.Glm(vocab: 20);
        var stream = Enumerable.Range(0, 300).Select(i => (i * 7) % 20).ToArray();
        return new Trainer(GlmModel.Create(c, seed: 5), new TrainerOptions { Steps = 10, BatchSize = 2, SeqLen = 8 }, new TokenStreamSource(stream, 9));
    }

    [Theory]
    [InlineData("model.safetensors")]
    [InlineData("optimizer.safetensors")]
    [InlineData("trainer_state.json")]
    public void ACorruptedFileIsNamedAndTheOlderCheckpointIsUsed(string file)
    {
        var t = NewTrainer();
        t.Step(); TrainingCheckpoint.Save(t, _dir);
        t.Step(); var newest = TrainingCheckpoint.Save(t, _dir);
        var path = Path.Combine(newest, file);
        var bytes = File.ReadAllBytes(path);
        bytes[bytes.Length - 3] ^= 0x40; // one flipped bit, the kind of damage a parser does not notice
        File.WriteAllBytes(path, bytes);

        var e = Assert.Throws<InvalidDataException>(() => TrainingCheckpoint.Restore(NewTrainer(), newest));
        Assert.Contains(file, e.Message);
        Assert.Contains("checksum mismatch", e.Message);
        var log = new List<string>();
        var usable = TrainingCheckpoint.LatestValid(_dir, log.Add);
        Assert.EndsWith("step-000001", usable);
        Assert.Contains(log, l => l.Contains("skipping damaged checkpoint") && l.Contains(file));
        var r = NewTrainer();
        TrainingCheckpoint.Restore(r, usable!);
        Assert.Equal(1, r.State.Step);
    }

    [Fact]
    public void ATruncatedOrMissingFileIsCaught()
    {
        var t = NewTrainer();
        t.Step();
        var dir = TrainingCheckpoint.Save(t, _dir);
        File.WriteAllBytes(Path.Combine(dir, "optimizer.safetensors"), File.ReadAllBytes(Path.Combine(dir, "optimizer.safetensors"))[..100]);
        Assert.Contains("checksum mismatch", Assert.Throws<InvalidDataException>(() => TrainingCheckpoint.Verify(dir)).Message);
        File.Delete(Path.Combine(dir, "optimizer.safetensors"));
        Assert.Contains("missing", Assert.Throws<InvalidDataException>(() => TrainingCheckpoint.Verify(dir)).Message);
        Assert.Null(TrainingCheckpoint.LatestValid(_dir));
    }

    [Fact]
    public void LeftoversOfAKilledSaveAreNeverLoadedAndAreCleanedUp()
    {
        var t = NewTrainer();
        t.Step();
        TrainingCheckpoint.Save(t, _dir);
        // What a writer killed mid-save leaves: a half-built checkpoint and a temp file of "latest".
        Directory.CreateDirectory(Path.Combine(_dir, ".step-000002.tmp"));
        File.WriteAllText(Path.Combine(_dir, ".step-000002.tmp", "model.safetensors"), "torn");
        File.WriteAllText(Path.Combine(_dir, ".latest.tmp-123-abc"), "step-0000");
        Assert.EndsWith("step-000001", TrainingCheckpoint.LatestValid(_dir));
        t.Step();
        TrainingCheckpoint.Save(t, _dir);
        Assert.Empty(Directory.GetFileSystemEntries(_dir, ".*"));
        Assert.EndsWith("step-000002", TrainingCheckpoint.LatestValid(_dir));
    }
}
